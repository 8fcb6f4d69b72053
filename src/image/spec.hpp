// Spec: a distill image spec (YAML) turned into a plain struct, with line numbers.
//
// Follows the "Spec format" section of the design contract (CONTRACT.md). Parsing
// validates everything that can be checked without the network (unknown keys, types,
// file entries, modes, ports, duplicate destinations, missing `src` files) and
// collects every problem: the Error message is one "FILE:LINE: what" line per problem,
// joined by "\n". yaml-cpp is only used inside spec.cpp; none of its exceptions escape.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/generated_files.hpp"
#include "util/result.hpp"

namespace distill::image {

struct SpecSource {
  std::string url;
  std::vector<std::string> suites;
  std::vector<std::string> components;  // default: ["main"]
  std::string keyring;                  // "" = the release's default keyring
  int line = 0;
};

struct SpecFile {
  enum class Kind { File, Directory, Content, EmptyDirectory, Symlink };
  Kind kind = Kind::File;
  std::filesystem::path src;   // absolute, resolved relative to the spec file's directory
  std::string dst;             // absolute, normalised ("//", "." and trailing "/" removed)
  std::string content;         // Kind::Content
  std::string symlink_target;  // Kind::Symlink, verbatim (may be relative)
  std::optional<uint32_t> mode;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int line = 0;
};

// One download of an `archives:` entry: the archive for `arch` ("" = any).
struct SpecArchiveDownload {
  std::string arch;
  std::string url;     // http://, https:// or file:, credentials stripped
  std::string sha256;  // 64 lowercase hex digits
  int line = 0;
};

// An upstream archive (tar, compressed or not) unpacked into its own layer.
// Either `url`/`sha256`/`arch` in the entry (one download) or a `downloads:`
// list (one per architecture); entries sharing a `name` form one group for the
// architecture check (see docs/spec.md, `archives`).
struct SpecArchive {
  std::string name;     // "" = none (then no purl)
  std::string version;  // "" = none
  std::vector<SpecArchiveDownload> downloads;
  uint32_t strip = 0;                // leading path components dropped
  std::string dst = "/";             // absolute, normalised
  std::vector<std::string> include;  // globs on the stripped path; empty = all
  std::vector<std::string> exclude;  // globs on the stripped path
  uint32_t uid = 0;                  // owner of every entry
  uint32_t gid = 0;
  std::optional<uint32_t> mode;      // regular files' permission bits
  std::optional<uint32_t> dir_mode;  // directories' permission bits
  int line = 0;

  // "NAME VERSION", "NAME", or the first download's URL: the archive in messages.
  [[nodiscard]] std::string label() const;
};

struct SpecUser {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;  // default: uid
  std::string home;  // default: /home/<name> (/root for uid 0)
  std::string shell = "/sbin/nologin";
};

struct SpecGroup {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
  int line = 0;  // 0 when not from a spec file (read back from an image)
};

struct Spec {
  std::filesystem::path file;  // "" for a built-in flavor
  std::string name;
  std::string from;     // flavor name, spec path (verbatim) or image reference; "" = empty
  std::string release;  // "" = inherit from the base, else bookworm
  std::vector<SpecSource> sources;
  std::vector<std::string> packages;
  std::vector<std::string> exclude;
  std::vector<std::string> archs;
  std::vector<SpecFile> files;
  std::vector<SpecArchive> archives;
  // `files:` already expanded into layer entries, used instead of `files`
  // (distill update reads them back from the image it updates).
  std::optional<std::vector<GeneratedEntry>> expanded_files;
  std::vector<std::string> trace;
  std::optional<std::vector<SpecUser>> users;
  std::optional<std::vector<SpecGroup>> groups;
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::map<std::string, std::string> env;
  std::optional<std::string> user;
  std::optional<std::string> workdir;
  std::vector<std::string> ports;  // normalised "PORT/tcp" or "PORT/udp"
  std::vector<std::string> volumes;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string stop_signal;
  // Line numbers for later error messages. Keys: every top-level key as written
  // ("packages", "stop-signal", ...), plus "packages:NAME", "exclude:NAME" and
  // "trace:PATH" for list items.
  std::map<std::string, int> lines;
  // The name used in messages: the file as given, or "NAME.yaml" for a flavor.
  std::string display_name;

  // "FILE:LINE" for a key of `lines` ("FILE" alone when the key is unknown).
  [[nodiscard]] std::string where(const std::string& key) const;
  // The name the spec goes by in layer history and the provenance: its file name
  // (never the path as typed, which depends on the working directory), or
  // RELEASE/NAME.yaml (built-in) for a flavor.
  [[nodiscard]] std::string record_name() const;
};

// Parses spec text. `file` names the spec in messages and anchors relative `src`
// paths (its parent directory; the current directory when it has none).
Result<Spec> parse_spec(std::string_view yaml_text, const std::filesystem::path& file);

// Reads and parses a spec file.
Result<Spec> load_spec(const std::filesystem::path& file);

// Like parse_spec, for text that has no file: messages say `display_name`, relative
// `src` paths are resolved against `base_dir`, and Spec::file stays empty.
Result<Spec> parse_spec_text(std::string_view yaml_text, const std::string& display_name,
                             const std::filesystem::path& base_dir);

}  // namespace distill::image
