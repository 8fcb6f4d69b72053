// A package's control file and md5sums (what its status.d entries hold), read
// from its .deb's control.tar once and kept by the .deb's sha256 in
// `<cache_dir>/controls/<sha256>`, beside the library catalogs: a build that
// writes the package's layer again (a warm build, another flavor, another
// variant) does not decode its control.tar again. md5sums is mostly hex that
// xz decodes slowly: tzdata's 65 KB took 1.9 ms, base's nine packages 4.7 ms
// of CPU in every build.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "archive/deb_reader.hpp"
#include "image/package_layer.hpp"
#include "util/result.hpp"

namespace distill::image {

// From the package's record, or read from `deb` (the package's own .deb) and
// then recorded (best effort, atomically). An empty `cache_dir` keeps none.
Result<archive::DebReader::Control> package_control(const InstalledPackage& package,
                                                    const archive::DebReader& deb,
                                                    const std::filesystem::path& cache_dir);

// Where the record of `package` is kept.
std::filesystem::path control_record_path(const InstalledPackage& package,
                                          const std::filesystem::path& cache_dir);

// A record's bytes: a header line naming the format, a line with the two
// sizes, then the control file and md5sums as they are.
std::string control_record(const archive::DebReader::Control& control);
// A record read back; nullopt for anything control_record() did not make (a
// truncated or foreign file, an empty control), which is then read again
// from the .deb.
std::optional<archive::DebReader::Control> parse_control_record(std::string_view bytes);

}  // namespace distill::image
