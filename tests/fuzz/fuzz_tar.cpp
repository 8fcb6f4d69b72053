// libFuzzer target: the tar reader (libarchive, all supported compressions) on
// arbitrary bytes in memory, then every entry it yields written again with the
// deterministic TarWriter and read back: the paths must survive the round trip.
// The content is read a second time through read_view() at sizes of 1 byte up,
// which must give the bytes read() gave.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "archive/byte_sink.hpp"
#include "archive/tar_reader.hpp"
#include "archive/tar_writer.hpp"

using distill::Status;
using distill::archive::ContentReader;
using distill::archive::TarEntry;

namespace {

constexpr size_t k_cap = size_t{1} << 20;  // what a tiny input may claim to hold

// A File's content, up to about k_cap: by read() in 4 KiB pieces, or by
// read_view() at sizes that cycle through 1, 2, 3 ... 600 bytes.
distill::Result<std::string> read_body(ContentReader& content, bool by_view) {
  std::string body;
  char buffer[4096];
  for (size_t i = 0; body.size() <= k_cap; ++i) {
    if (by_view) {
      const size_t want = 1 + i % 600;
      auto view = content.read_view(buffer, want);
      if (!view.ok()) {
        return view.error();
      }
      if (view->size() > want) {
        std::abort();
      }
      if (view->empty()) {
        break;
      }
      body.append(*view);
    } else {
      auto n = content.read(buffer, sizeof buffer);
      if (!n.ok()) {
        return n.error();
      }
      if (*n == 0) {
        break;
      }
      body.append(buffer, *n);
    }
  }
  return body;
}

// The content of a File entry (read_body), nothing for the others.
distill::Result<std::string> entry_body(const TarEntry& entry, ContentReader& content,
                                        bool by_view) {
  if (entry.type != distill::archive::EntryType::File) {
    return std::string();
  }
  return read_body(content, by_view);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string rewritten;
  distill::archive::StringSink sink(rewritten);
  distill::archive::TarWriter writer(sink);
  std::vector<std::string> paths;
  std::vector<std::string> bodies;
  Status status = distill::archive::for_each_tar_entry(
      bytes,
      [&](const TarEntry& entry, ContentReader& content) -> Status {
        if (entry.path.empty() || entry.path.front() == '/' || entry.path.back() == '/') {
          std::abort();
        }
        auto read = entry_body(entry, content, false);
        if (!read.ok()) {
          return read.error();
        }
        std::string body = std::move(*read);
        bodies.push_back(body);
        TarEntry copy = entry;
        copy.size = body.size();
        if ((copy.type == distill::archive::EntryType::Symlink ||
             copy.type == distill::archive::EntryType::Hardlink) &&
            copy.link_target.empty()) {
          return {};
        }
        paths.push_back(copy.path);
        return writer.add(copy, std::string_view(body));
      },
      "fuzz.tar");
  if (!status.ok() || !writer.finish().ok()) {
    return 0;
  }
  size_t viewed = 0;
  Status by_view = distill::archive::for_each_tar_entry(
      bytes,
      [&](const TarEntry& entry, ContentReader& content) -> Status {
        auto body = entry_body(entry, content, true);
        if (!body.ok()) {
          return body.error();
        }
        // Bodies past the cap stop at different points: compared up to it.
        if (viewed >= bodies.size() || body->substr(0, k_cap) != bodies[viewed].substr(0, k_cap)) {
          std::abort();
        }
        ++viewed;
        return {};
      },
      "fuzz.tar");
  if (!by_view.ok() || viewed != bodies.size()) {
    std::abort();
  }
  size_t index = 0;
  Status again = distill::archive::for_each_tar_entry(
      std::string_view(rewritten),
      [&](const TarEntry& entry, ContentReader&) -> Status {
        if (index >= paths.size() || paths[index] != entry.path) {
          std::abort();
        }
        ++index;
        return {};
      },
      "rewritten.tar");
  if (!again.ok() || index != paths.size()) {
    std::abort();
  }
  return 0;
}
