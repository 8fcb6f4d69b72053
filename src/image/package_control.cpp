#include "image/package_control.hpp"

#include <charconv>
#include <system_error>

#include "util/file_io.hpp"

namespace distill::image {

namespace {

constexpr std::string_view k_magic = "distill control record 1\n";

// A decimal size ending at `end` ("123 " or "45\n"), advancing `at` past it.
std::optional<size_t> take_size(std::string_view bytes, size_t& at, char end) {
  size_t value = 0;
  const char* first = bytes.data() + at;
  const char* last = bytes.data() + bytes.size();
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || ptr == first || ptr == last || *ptr != end) {
    return std::nullopt;
  }
  at = static_cast<size_t>(ptr - bytes.data()) + 1;
  return value;
}

}  // namespace

std::filesystem::path control_record_path(const InstalledPackage& package,
                                          const std::filesystem::path& cache_dir) {
  return cache_dir / "controls" / package.sha256.hex();
}

std::string control_record(const archive::DebReader::Control& control) {
  std::string out(k_magic);
  out +=
      std::to_string(control.control.size()) + " " + std::to_string(control.md5sums.size()) + "\n";
  out += control.control;
  out += control.md5sums;
  return out;
}

std::optional<archive::DebReader::Control> parse_control_record(std::string_view bytes) {
  if (bytes.substr(0, k_magic.size()) != k_magic) {
    return std::nullopt;
  }
  size_t at = k_magic.size();
  auto control_size = take_size(bytes, at, ' ');
  auto md5sums_size = control_size ? take_size(bytes, at, '\n') : std::nullopt;
  const size_t rest = bytes.size() - at;
  if (!md5sums_size || *control_size == 0 || *control_size > rest ||
      rest - *control_size != *md5sums_size) {
    return std::nullopt;
  }
  archive::DebReader::Control control;
  control.control = bytes.substr(at, *control_size);
  control.md5sums = bytes.substr(at + *control_size);
  return control;
}

Result<archive::DebReader::Control> package_control(const InstalledPackage& package,
                                                    const archive::DebReader& deb,
                                                    const std::filesystem::path& cache_dir) {
  if (cache_dir.empty()) {
    return deb.read_control();
  }
  const std::filesystem::path record = control_record_path(package, cache_dir);
  if (auto bytes = util::read_file(record); bytes.ok()) {
    if (auto kept = parse_control_record(*bytes)) {
      return *kept;
    }
  }
  DISTILL_TRY(auto control, deb.read_control());
  std::error_code ec;
  std::filesystem::create_directories(record.parent_path(), ec);
  // Best effort: without the record the control.tar is only decoded again.
  (void)util::write_file_atomic(record, control_record(control));
  return control;
}

}  // namespace distill::image
