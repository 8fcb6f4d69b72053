// .deb reader (deb(5)): ar container parsed in place from an mmap, members read
// with the libarchive tar reader straight from the mapped bytes.
#include "archive/deb_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "archive/entry_containment.hpp"
#include "archive/tar_reader.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"

namespace distill::archive {

struct DebReader::Mapping {
  void* address = nullptr;
  size_t size = 0;
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (address != nullptr) {
      ::munmap(address, size);
    }
  }
};

DebReader::DebReader(DebReader&&) noexcept = default;
DebReader& DebReader::operator=(DebReader&&) noexcept = default;
DebReader::~DebReader() = default;

namespace {

constexpr uint64_t k_tar_header = 512;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

Result<DebReader> DebReader::open(const std::filesystem::path& deb, std::string label,
                                  Checksums checksums) {
  util::Fd fd(::open(deb.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return util::errno_error(deb, errno).context(label);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return util::errno_error(deb, errno).context(label);
  }
  auto mapping = std::make_unique<Mapping>();
  if (st.st_size > 0) {
    mapping->size = static_cast<size_t>(st.st_size);
    void* address = ::mmap(nullptr, mapping->size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (address == MAP_FAILED) {
      return util::errno_error(deb, errno).context(label);
    }
    mapping->address = address;
    ::madvise(address, mapping->size, MADV_SEQUENTIAL);
  }
  std::string_view bytes(static_cast<const char*>(mapping->address), mapping->size);
  DISTILL_TRY(DebReader reader, from_memory(bytes, std::move(label), checksums));
  reader.m_mapping = std::move(mapping);
  return reader;
}

Result<DebReader> DebReader::from_memory(std::string_view data, std::string label,
                                         Checksums checksums) {
  DISTILL_TRY(std::vector<ArMember> members, parse_ar(data, label));
  if (members.empty() || members[0].name != "debian-binary") {
    return make_error(ErrorKind::Corrupt, label + ": not a Debian package (no debian-binary)");
  }
  std::string_view version = data.substr(members[0].offset, members[0].size);
  if (!starts_with(version, "2.")) {
    return make_error(ErrorKind::Unsupported,
                      label + ": unsupported .deb format version " + std::string(version));
  }
  DebReader reader;
  reader.m_bytes = data;
  reader.m_label = std::move(label);
  reader.m_checksums = checksums;
  bool have_control = false;
  bool have_data = false;
  for (size_t i = 1; i < members.size(); ++i) {
    const ArMember& member = members[i];
    if (!have_control && starts_with(member.name, "control.tar")) {
      reader.m_control = member;
      have_control = true;
    } else if (!have_data && starts_with(member.name, "data.tar")) {
      reader.m_data = member;
      have_data = true;
    }
  }
  if (!have_control || !have_data) {
    return make_error(ErrorKind::Corrupt, reader.m_label + ": .deb without " +
                                              (have_control ? "data.tar" : "control.tar") +
                                              " member");
  }
  return reader;
}

Result<DebReader::Control> DebReader::read_control() const {
  Control control;
  std::string origin = m_label + ": " + m_control.name;
  std::string_view bytes = m_bytes.substr(m_control.offset, m_control.size);
  uint64_t total = 0;
  bool have_control = false;
  bool have_md5sums = false;
  Status status = for_each_tar_entry_until(
      bytes,
      [&](const TarEntry& entry, ContentReader& content) -> Result<TarNext> {
        // A control.tar is a few KiB: bound what it may inflate to (a "control
        // bomb" of a small .deb would otherwise be read whole into memory).
        total += k_tar_header + entry.size;
        if (entry.size > k_max_control_member || total > k_max_control_tar) {
          return make_error(ErrorKind::Corrupt,
                            origin + ": " + entry.path + ": larger than a control file may be (" +
                                std::to_string(k_max_control_member >> 20) + " MiB each, " +
                                std::to_string(k_max_control_tar >> 20) + " MiB in all)");
        }
        if (entry.type == EntryType::File && entry.path == "control") {
          DISTILL_TRY(control.control, content.read_all());
          have_control = true;
        } else if (entry.type == EntryType::File && entry.path == "md5sums") {
          DISTILL_TRY(control.md5sums, content.read_all());
          have_md5sums = true;
        }
        return have_control && have_md5sums ? TarNext::Stop : TarNext::Continue;
      },
      origin, m_checksums);
  DISTILL_CHECK(status);
  if (control.control.empty()) {
    return make_error(ErrorKind::Corrupt, origin + ": no control file");
  }
  return control;
}

Status DebReader::for_each_data_entry(
    const std::function<Status(const TarEntry&, ContentReader&)>& fn) const {
  std::string_view bytes = m_bytes.substr(m_data.offset, m_data.size);
  EntryContainment containment(m_label, "a package");
  return for_each_tar_entry(
      bytes,
      [&](const TarEntry& entry, ContentReader& content) -> Status {
        DISTILL_CHECK(containment.check(entry));
        return fn(entry, content);
      },
      m_label, m_mapping != nullptr, m_checksums);
}

}  // namespace distill::archive
