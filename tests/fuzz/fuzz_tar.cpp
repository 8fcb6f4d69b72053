// libFuzzer target: the tar reader (libarchive, all supported compressions) on
// arbitrary bytes in memory, then every entry it yields written again with the
// deterministic TarWriter and read back: the paths must survive the round trip.
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

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string rewritten;
  distill::archive::StringSink sink(rewritten);
  distill::archive::TarWriter writer(sink);
  std::vector<std::string> paths;
  Status status = distill::archive::for_each_tar_entry(
      bytes,
      [&](const TarEntry& entry, ContentReader& content) -> Status {
        if (entry.path.empty() || entry.path.front() == '/' || entry.path.back() == '/') {
          std::abort();
        }
        std::string body;
        if (entry.type == distill::archive::EntryType::File) {
          // Cap what a tiny input may claim to hold.
          char buffer[4096];
          for (;;) {
            auto n = content.read(buffer, sizeof buffer);
            if (!n.ok()) {
              return n.error();
            }
            if (*n == 0 || body.size() > (1U << 20)) {
              break;
            }
            body.append(buffer, *n);
          }
        }
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
