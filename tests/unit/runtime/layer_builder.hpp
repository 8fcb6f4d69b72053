// Test helper: writes layer tars with Python's tarfile module (an independent tar
// writer), so the unpacker is tested against archives it did not produce.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../support/python.hpp"
#include "util/subprocess.hpp"

namespace distill::runtime::testing {

struct LayerEntry {
  std::string name;
  std::string type = "file";  // file, dir, symlink, link, fifo, chr
  std::string content;        // file
  std::string src;            // file: take the content from this host file instead
  std::string target;         // symlink / link
  unsigned mode = 0644;
  unsigned uid = 0;
  unsigned gid = 0;
  int64_t mtime = 1700000000;
  unsigned major = 0;
  unsigned minor = 0;
};

inline constexpr const char* k_tar_script = R"PY(
import io, json, sys, tarfile
spec = json.load(sys.stdin)
types = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
         "link": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "chr": tarfile.CHRTYPE}
with tarfile.open(spec["out"], "w:gz" if spec["gzip"] else "w", format=tarfile.PAX_FORMAT) as tar:
    for e in spec["entries"]:
        info = tarfile.TarInfo(e["name"])
        info.type = types[e["type"]]
        info.mode, info.uid, info.gid, info.mtime = e["mode"], e["uid"], e["gid"], e["mtime"]
        info.devmajor, info.devminor = e["major"], e["minor"]
        data = None
        if e["type"] == "file":
            data = open(e["src"], "rb").read() if e["src"] else e["content"].encode()
            info.size = len(data)
        elif e["type"] in ("symlink", "link"):
            info.linkname = e["target"]
        tar.addfile(info, io.BytesIO(data) if data is not None else None)
)PY";

// Writes `entries` as a tar (gzip-compressed when `gzip`) to `out`; returns an
// empty string on success, else python's complaint.
inline std::string write_layer(const std::filesystem::path& out,
                               const std::vector<LayerEntry>& entries, bool gzip = false) {
  nlohmann::json spec{{"out", out.string()}, {"gzip", gzip}, {"entries", nlohmann::json::array()}};
  for (const auto& e : entries) {
    spec["entries"].push_back({{"name", e.name},
                               {"type", e.type},
                               {"content", e.content},
                               {"src", e.src},
                               {"target", e.target},
                               {"mode", e.mode},
                               {"uid", e.uid},
                               {"gid", e.gid},
                               {"mtime", e.mtime},
                               {"major", e.major},
                               {"minor", e.minor}});
  }
  util::Command command{{test::system_python().string(), "-c", k_tar_script}, spec.dump()};
  auto result = util::run_command(command);
  if (!result.ok()) {
    return result.error().message;
  }
  return result->exit_code == 0 ? std::string() : result->stderr_data;
}

}  // namespace distill::runtime::testing
