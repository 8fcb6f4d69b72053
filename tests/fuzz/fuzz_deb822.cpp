// libFuzzer target for the deb822-based parsers: control paragraphs (with a
// re-serialization round trip), Packages indexes (parsed whole, and streamed in
// two pieces into the compacted PackagesText that must give the same records),
// relationship fields, Release files, clear-signed envelopes and APT source
// definitions.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "debian/apt_sources.hpp"
#include "debian/control.hpp"
#include "debian/package_index.hpp"
#include "debian/relation.hpp"
#include "debian/release.hpp"

using namespace distill::debian;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string origin = "fuzz";

  auto paragraphs = parse_control(text, origin);
  if (paragraphs.ok()) {
    // Re-serializing a paragraph and parsing it again gives the same fields.
    for (const Paragraph& p : *paragraphs) {
      auto again = parse_paragraph(p.text(), origin);
      if (!again.ok() || again->fields().size() != p.fields().size()) {
        std::abort();
      }
      for (size_t i = 0; i < p.fields().size(); ++i) {
        if (again->fields()[i].name != p.fields()[i].name ||
            again->fields()[i].value != p.fields()[i].value) {
          std::abort();
        }
      }
    }
  }

  auto records = parse_packages(text, origin);
  PackagesText streamed(origin);
  size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  bool streamed_ok = streamed.write(text.substr(0, cut)).ok() &&
                     streamed.write(text.substr(cut)).ok() && streamed.finish().ok();
  if (records.ok()) {
    // What the whole-text parser accepts, the stream accepts, with equal records.
    if (!streamed_ok) {
      std::abort();
    }
    PackageIndex index;
    index.add(std::move(streamed), {origin, "", "", ""});
    if (index.size() != records->size()) {
      std::abort();
    }
    for (const PackageRecord& r : *records) {
      bool found = false;
      for (const PackageRecord* kept : index.by_name(r.name)) {
        found = found || (kept->version == r.version && kept->filename == r.filename &&
                          kept->sha256 == r.sha256 && kept->depends == r.depends &&
                          kept->pre_depends == r.pre_depends && kept->provides == r.provides);
      }
      if (!found) {
        std::abort();
      }
    }
    if (!index.status().ok()) {
      std::abort();
    }
  }
  (void)parse_release(text, origin);
  (void)clearsigned_payload(text, origin);
  (void)parse_sources_deb822(text, origin);
  (void)parse_sources_list(text, origin);

  auto relations = parse_relations(text);
  if (relations.ok()) {
    // Printing and re-parsing a relation field is stable.
    std::string printed;
    for (const RelationGroup& group : *relations) {
      printed += (printed.empty() ? "" : ", ") + group.to_string();
    }
    auto again = parse_relations(printed);
    if (!again.ok() || *again != *relations) {
      std::abort();
    }
  }
  return 0;
}
