// LibraryScanner tests (library_catalog.hpp): an entry streamed through a
// consumer (the layer writer in a build) is cataloged the same whether it is
// small enough to be read into memory or big enough to be spilled, and the
// consumer sees every byte either way.
#include <gtest/gtest.h>

#include <string>

#include "archive/tar_entry.hpp"
#include "image/library_catalog.hpp"
#include "util/file_io.hpp"

namespace distill::image {
namespace {

std::string host_libc() {
  for (const char* path : {"/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6",
                           "/usr/lib/x86_64-linux-gnu/libc.so.6"}) {
    auto text = util::read_file(path);
    if (text.ok()) {
      return *text;
    }
  }
  return {};
}

TEST(LibraryScanner, StreamedSmallAndSpilledEntriesCatalogAlike) {
  std::string elf = host_libc();
  if (elf.empty()) {
    GTEST_SKIP() << "no host libc.so.6 to read";
  }
  for (size_t size : {elf.size(), size_t{9} << 20}) {  // in memory; spilled (over 4 MiB)
    std::string data = elf;
    data.resize(size, '\0');  // trailing bytes do not change what the ELF says
    archive::TarEntry entry;
    entry.path = "usr/lib/x86_64-linux-gnu/libc.so.6";
    entry.type = archive::EntryType::File;
    entry.size = data.size();
    LibraryScanner streamed;
    archive::MemoryContentReader content(data);
    std::string consumed;
    auto status = streamed.add(entry, content, "libc6", [&](archive::ContentReader& bytes) {
      auto all = bytes.read_all();
      if (!all.ok()) {
        return Status(all.error());
      }
      consumed = std::move(*all);
      return Status();
    });
    ASSERT_TRUE(status.ok()) << status.error().message;
    EXPECT_TRUE(consumed == data) << size;
    LibraryScanner direct;
    direct.add(entry, data, "libc6");
    auto a = streamed.take();
    auto b = direct.take();
    ASSERT_EQ(a.files.size(), 1u);
    ASSERT_EQ(b.files.size(), 1u);
    EXPECT_TRUE(a.files[0].elf);
    EXPECT_EQ(a.files[0].soname, "libc.so.6");
    EXPECT_EQ(a.files[0].soname, b.files[0].soname);
    EXPECT_EQ(a.files[0].needed, b.files[0].needed);
    EXPECT_EQ(a.files[0].cache_flags, b.files[0].cache_flags);
  }
}

// A consumer that stops early still leaves the scanner the whole file.
TEST(LibraryScanner, SpilledEntryReadToTheEndAfterAShortConsumer) {
  std::string elf = host_libc();
  if (elf.empty()) {
    GTEST_SKIP() << "no host libc.so.6 to read";
  }
  elf.resize(size_t{6} << 20, '\0');
  archive::TarEntry entry;
  entry.path = "lib/x86_64-linux-gnu/libc.so.6";
  entry.type = archive::EntryType::File;
  entry.size = elf.size();
  LibraryScanner scanner;
  archive::MemoryContentReader content(elf);
  ASSERT_TRUE(scanner
                  .add(entry, content, "libc6",
                       [](archive::ContentReader& bytes) {
                         char head[16];
                         return bytes.read(head, sizeof head).ok() ? Status() : Status();
                       })
                  .ok());
  auto catalog = scanner.take();
  ASSERT_EQ(catalog.files.size(), 1u);
  EXPECT_EQ(catalog.files[0].soname, "libc.so.6");
}

}  // namespace
}  // namespace distill::image
