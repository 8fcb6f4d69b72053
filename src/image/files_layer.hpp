// The application layer: the spec's `files:` (host files and directories,
// inline content, empty directories, symlinks) with their modes and owners.
// Entries are sorted by path with every parent present, mtime = source date
// epoch, so the layer depends on file contents, not on checkout times.
#pragma once

#include <string>
#include <vector>

#include "image/archive_layer.hpp"
#include "image/generated_files.hpp"
#include "image/spec.hpp"
#include "util/result.hpp"

namespace distill::image {

// Expands the spec's files into layer entries (directories recursively).
Result<std::vector<GeneratedEntry>> expand_spec_files(const Spec& spec, int64_t epoch);

// The ELF files and symlinks the spec's `files:` put in the image (single
// files, those below a copied directory, inline content), at their absolute
// paths, as `trace:` sees them (the same shape as an archive's). A file that
// starts like ELF but does not parse is left out, as ld.so would skip it.
Result<std::vector<ArchiveFile>> spec_elf_files(const Spec& spec, int64_t epoch);

// A cache key part for entries: metadata plus the sha256 of every content.
Result<std::string> entries_fingerprint(const std::vector<GeneratedEntry>& entries);

}  // namespace distill::image
