// libFuzzer target: the ar parser and, on top of it, the .deb reader (control
// and data members through libarchive) on arbitrary bytes. Checks that every
// member parse_ar returns lies inside the input.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "archive/ar_reader.hpp"
#include "archive/deb_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto members = distill::archive::parse_ar(bytes, "fuzz.a");
  if (members.ok()) {
    for (const auto& member : *members) {
      if (member.offset > size || member.size > size - member.offset || member.name.empty()) {
        std::abort();
      }
    }
  }
  auto deb = distill::archive::DebReader::from_memory(bytes, "fuzz");
  if (!deb.ok()) {
    return 0;
  }
  (void)deb->read_control();
  (void)deb->for_each_data_entry([](const distill::archive::TarEntry& entry,
                                    distill::archive::ContentReader& content) -> distill::Status {
    if (entry.path.empty()) {
      std::abort();
    }
    char buffer[4096];
    for (;;) {
      auto n = content.read(buffer, sizeof buffer);
      if (!n.ok()) {
        return n.error();
      }
      if (*n == 0) {
        return {};
      }
    }
  });
  return 0;
}
