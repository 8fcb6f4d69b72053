// DebReader: reads a Debian binary package (deb(5)): an ar archive holding
// debian-binary ("2.x"), control.tar[.gz|.xz|.zst] and
// data.tar[.gz|.xz|.zst|.bz2|.lzma]. The .deb is memory-mapped; members are
// read in place with libarchive (nothing is copied whole).
//
// data.tar entries are streamed in archive order with strict checks: a ".."
// component, a hard link to a path that is not an earlier entry, and character
// or block devices and FIFOs are rejected with a Corrupt error naming the
// package and the path. Absolute paths are normalised (leading "/" stripped) and
// the root entry "./" is skipped.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "archive/ar_reader.hpp"
#include "archive/decompress.hpp"
#include "archive/tar_entry.hpp"
#include "util/result.hpp"

namespace distill::archive {

class DebReader {
 public:
  // `label` names the package in error messages (e.g. "libc6_2.36-9_amd64").
  // `checksums`: whether the xz checks of its members are computed (Skip for
  // a .deb whose SHA-256 was verified against its index: content_cache.hpp).
  static Result<DebReader> open(const std::filesystem::path& deb, std::string label,
                                Checksums checksums = Checksums::Verify);
  // Reads a .deb held in memory; `data` must outlive the reader.
  static Result<DebReader> from_memory(std::string_view data, std::string label,
                                       Checksums checksums = Checksums::Verify);

  DebReader(DebReader&&) noexcept;
  DebReader& operator=(DebReader&&) noexcept;
  DebReader(const DebReader&) = delete;
  DebReader& operator=(const DebReader&) = delete;
  ~DebReader();

  // The two files of control.tar an image records (dpkg's status entry and
  // its md5sums); an absent md5sums is "".
  struct Control {
    std::string control;
    std::string md5sums;
  };
  // Reading stops once both are read: what follows them (dpkg-deb sorts the
  // members: the scripts, symbols and debconf templates, 300 KiB in libc6's)
  // is not decoded. Members larger than k_max_control_member, or a
  // control.tar inflating past k_max_control_tar before that, are refused
  // (Corrupt, naming the package).
  [[nodiscard]] Result<Control> read_control() const;
  static constexpr uint64_t k_max_control_member = uint64_t{4} << 20;
  static constexpr uint64_t k_max_control_tar = uint64_t{16} << 20;

  Status for_each_data_entry(
      const std::function<Status(const TarEntry&, ContentReader&)>& fn) const;

  [[nodiscard]] const std::string& label() const { return m_label; }
  // The data.tar member's name, e.g. "data.tar.xz".
  [[nodiscard]] const std::string& data_member_name() const { return m_data.name; }

 private:
  struct Mapping;
  DebReader() = default;
  std::unique_ptr<Mapping> m_mapping;  // owns the mmap, if any
  std::string_view m_bytes;
  std::string m_label;
  ArMember m_control;
  ArMember m_data;
  Checksums m_checksums = Checksums::Verify;
};

}  // namespace distill::archive
