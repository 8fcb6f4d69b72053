#include "image/update.hpp"

#include <fcntl.h>

#include <algorithm>
#include <set>

#include "archive/tar_reader.hpp"
#include "debian/lock_file.hpp"
#include "debian/releases.hpp"
#include "image/execute.hpp"
#include "image/files_layer.hpp"
#include "image/from_chain.hpp"
#include "image/plan.hpp"
#include "image/provenance.hpp"
#include "oci/image_ref.hpp"
#include "oci/source.hpp"
#include "util/fd.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::image {

namespace {

// The record of every manifest, in the image's order.
Result<std::vector<Provenance>> read_records(const oci::LoadedImage& image,
                                             const std::string& ref) {
  std::vector<Provenance> out;
  for (const auto& m : image.manifests) {
    auto it = m.manifest.annotations.find(std::string(k_provenance_annotation));
    if (it == m.manifest.annotations.end()) {
      return make_error(ErrorKind::InvalidInput,
                        ref + ": the image has no distill provenance (manifest annotation " +
                            std::string(k_provenance_annotation) +
                            "): update takes images distill built, as oci:, oci-archive: or "
                            "docker:// (docker-archive: drops manifest annotations)");
    }
    DISTILL_TRY(auto record, parse_provenance(it->second, ref));
    out.push_back(std::move(record));
  }
  if (out.empty()) {
    return make_error(ErrorKind::InvalidInput, ref + ": the image has no manifest");
  }
  if (out.front().image_base) {
    return make_error(ErrorKind::Unsupported,
                      ref +
                          ": built `from:` an image reference, whose packages distill does not "
                          "know; rebuild it with `distill build --refresh`");
  }
  return out;
}

// The keyring given with --keyring whose bytes the record names, as a copy
// under the name the record gives it in `dir` (the name is part of the
// record, so the rebuilt image records the same one wherever the file is).
Result<std::string> find_keyring(const ProvenanceSource& source,
                                 const std::vector<std::filesystem::path>& keyrings,
                                 const std::filesystem::path& dir, const std::string& ref) {
  const std::string& name = source.keyring_name;
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    return make_error(ErrorKind::InvalidInput,
                      ref + ": provenance record: keyring name '" + name + "' is not a file name");
  }
  for (const auto& path : keyrings) {
    auto bytes = util::read_file(path);
    if (!bytes.ok()) {
      return bytes.error().context("--keyring");
    }
    if (crypto::sha256(*bytes).hex() == source.keyring_sha256) {
      std::filesystem::path copy = dir / name;
      DISTILL_CHECK(util::write_file_atomic(copy, *bytes));
      return copy.string();
    }
  }
  return make_error(ErrorKind::InvalidInput,
                    ref + ": source " + source.url + " was verified with the keyring " +
                        source.keyring_name + " (sha256 " + source.keyring_sha256 +
                        "); give that file with --keyring");
}

// Files of the spec bigger than this are read back into a file of the
// update's own, not into memory: an application's jar is tens of MB, and
// the plan copies the entries.
constexpr uint64_t k_in_memory_limit = 1U << 20;

// Writes what `content` holds to a new file `path`.
Status save_content(archive::ContentReader& content, const std::filesystem::path& path) {
  util::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return util::errno_error(path, errno);
  }
  std::string buffer(1U << 16, '\0');
  for (;;) {
    DISTILL_TRY(size_t n, content.read(buffer.data(), buffer.size()));
    if (n == 0) {
      return {};
    }
    DISTILL_CHECK(util::write_all(fd.get(), buffer.data(), n, path));
  }
}

// The spec's own entries of a top layer: the layer's entries less the
// generated ones, with the content in memory, or for big files in a file
// under `dir` (GeneratedEntry::source), as a build from the spec has them.
Result<std::vector<GeneratedEntry>> read_spec_files(const std::filesystem::path& layer,
                                                    const ProvenanceFiles& files,
                                                    const std::filesystem::path& dir,
                                                    const std::string& where) {
  std::set<std::string> generated(files.generated.begin(), files.generated.end());
  std::vector<GeneratedEntry> out;
  DISTILL_CHECK(archive::for_each_tar_entry(
      layer,
      [&](const archive::TarEntry& entry, archive::ContentReader& content) -> Status {
        if (generated.count(entry.path) != 0) {
          return {};
        }
        GeneratedEntry g;
        g.entry = entry;
        g.entry.uname.clear();
        g.entry.gname.clear();
        if (entry.type == archive::EntryType::File && entry.size > k_in_memory_limit) {
          g.source = dir / ("file-" + std::to_string(out.size()));
          DISTILL_CHECK(save_content(content, g.source));
        } else if (entry.type == archive::EntryType::File) {
          DISTILL_TRY(g.content, content.read_all());
        }
        out.push_back(std::move(g));
        return {};
      },
      where));
  DISTILL_TRY(auto fingerprint, entries_fingerprint(out));
  if (fingerprint != files.fingerprint) {
    return make_error(ErrorKind::Corrupt,
                      where +
                          ": the spec's files read back from the layer differ from the "
                          "ones the image was built with");
  }
  return out;
}

// The `from:` chain the record describes, files read from `manifest`'s layers.
Result<SpecChain> chain_from(const Provenance& record, const oci::LoadedManifest& manifest,
                             const UpdateRequest& request, const std::filesystem::path& key_dir) {
  SpecChain chain;
  size_t index = 0;
  for (const auto& stage : record.stages) {
    const std::filesystem::path files_dir = key_dir / "files" / std::to_string(index++);
    Spec spec;
    spec.display_name = stage.spec;
    spec.name = stage.name;
    spec.from = stage.from;
    spec.release = stage.release;
    for (const auto& s : stage.sources) {
      SpecSource source;
      source.url = s.url;
      source.suites = s.suites;
      source.components = s.components;
      if (!s.keyring_sha256.empty()) {
        DISTILL_TRY(source.keyring, find_keyring(s, request.keyrings, key_dir, request.image));
      }
      spec.sources.push_back(std::move(source));
    }
    // `trace:` found its libraries when the image was built: the packages it
    // added stand as the stage's packages now.
    spec.packages = stage.traced.empty() ? stage.packages : stage.traced;
    spec.exclude = stage.exclude;
    spec.users = stage.users;
    spec.groups = stage.groups;
    spec.archives = stage.archives;
    if (stage.files) {
      if (stage.files->layer >= manifest.layer_files.size()) {
        return make_error(ErrorKind::InvalidInput,
                          request.image + ": provenance record: " + stage.spec +
                              "'s files are in layer " + std::to_string(stage.files->layer) +
                              ", which the image does not have");
      }
      std::error_code ec;
      std::filesystem::create_directories(files_dir, ec);
      if (ec) {
        return util::errno_error(files_dir, ec.value());
      }
      DISTILL_TRY(spec.expanded_files,
                  read_spec_files(manifest.layer_files[stage.files->layer], *stage.files, files_dir,
                                  request.image + ": layer " + std::to_string(stage.files->layer) +
                                      " (files of " + stage.spec + ")"));
    }
    chain.specs.push_back(std::move(spec));
  }
  return chain;
}

// The newest resolution with every package outside `only` set back to the
// version `records` name (from the cache, by sha256), as a lock file.
Result<std::filesystem::path> pinned_lock(const std::vector<Provenance>& records,
                                          const ImagePlan& fresh, const UpdateRequest& request,
                                          BuildEnv& env, const std::filesystem::path& dir) {
  std::set<std::string> known;
  for (const auto& r : records) {
    for (const auto& p : r.packages) {
      known.insert(p.name);
    }
  }
  for (const auto& [arch, list] : fresh.lock.packages) {
    for (const auto& p : list) {
      known.insert(p.name);
    }
  }
  for (const auto& name : request.only) {
    if (known.count(name) == 0) {
      return make_error(ErrorKind::InvalidInput, "usage: --only " + name + ": " + request.image +
                                                     " has no package " + name +
                                                     " and its sources add none");
    }
  }
  std::set<std::string> moving(request.only.begin(), request.only.end());
  debian::LockFile lock = fresh.lock;
  for (const auto& record : records) {
    auto it = lock.packages.find(record.arch);
    if (it == lock.packages.end()) {
      continue;
    }
    for (auto& p : it->second) {
      if (moving.count(p.name) != 0) {
        continue;
      }
      auto old = std::find_if(record.packages.begin(), record.packages.end(),
                              [&](const ResolvedPackage& r) { return r.name == p.name; });
      if (old == record.packages.end() || old->sha256 == p.sha256.hex()) {
        continue;
      }
      DISTILL_TRY(auto sha256, crypto::Digest::from_hex(old->sha256));
      if (!env.cache.contains(sha256)) {
        return make_error(ErrorKind::NotFound,
                          request.image + ": " + p.name + " " + old->version +
                              " (kept by --only) is not in the cache, and the sources now have " +
                              p.version + "; add " + p.name + " to --only");
      }
      std::error_code ec;
      auto size = std::filesystem::file_size(env.cache.path_for(sha256), ec);
      if (ec) {
        return util::errno_error(env.cache.path_for(sha256), ec.value());
      }
      p.version = old->version;
      p.sha256 = sha256;
      p.size = size;
    }
  }
  std::filesystem::path path = dir / "pinned.lock";
  DISTILL_CHECK(util::write_file_atomic(path, debian::to_json(lock)));
  return path;
}

std::vector<PackageChange> changes(const std::vector<Provenance>& before, const ImagePlan& after) {
  std::vector<PackageChange> out;
  for (size_t i = 0; i < before.size() && i < after.archs.size(); ++i) {
    std::map<std::string, std::string> old_versions;
    for (const auto& p : before[i].packages) {
      old_versions[p.name] = p.version;
    }
    std::map<std::string, std::string> new_versions;
    for (const auto& p : after.archs[i].packages) {
      new_versions[p.name] = p.version;
    }
    std::set<std::string> names;
    for (const auto& [name, v] : old_versions) {
      names.insert(name);
    }
    for (const auto& [name, v] : new_versions) {
      names.insert(name);
    }
    for (const auto& name : names) {
      std::string from = old_versions.count(name) ? old_versions[name] : "";
      std::string to = new_versions.count(name) ? new_versions[name] : "";
      if (from != to) {
        out.push_back({after.archs[i].arch, name, from, to});
      }
    }
  }
  return out;
}

}  // namespace

Result<UpdateResult> update_image(const UpdateRequest& request, BuildEnv& env) {
  if (request.outputs.empty()) {
    return make_error(ErrorKind::InvalidInput, "usage: update needs -o REF");
  }
  for (const auto& o : request.outputs) {
    if (auto parsed = oci::ImageRef::parse(o); !parsed.ok()) {
      return make_error(ErrorKind::InvalidInput,
                        "usage: -o '" + o + "': " + parsed.error().message);
    }
  }
  oci::SourceOptions source;
  source.registry.auth_file = request.registry.auth_file;
  source.registry.tls_verify = request.registry.tls_verify;
  source.cert_dir = request.registry.cert_dir;
  source.pull.cache_dir = env.cache.dir();
  env.progress.step("reading " + request.image);
  DISTILL_TRY(auto loaded, oci::open_image(request.image, source));
  DISTILL_TRY(auto records, read_records(loaded, request.image));
  const Provenance& first = records.front();
  // Keyrings named by the record, and the spec's big files read back from
  // the image, live here while the update runs.
  DISTILL_TRY(auto key_dir, util::TempDir::create("distill-update-"));
  DISTILL_TRY(SpecChain chain,
              chain_from(first, loaded.manifests.front(), request, key_dir.path()));
  std::vector<NamedChain> chains;
  chains.push_back({first.stages.back().spec, std::move(chain)});

  BuildRequest build;
  build.specs = {chains.front().name};
  DISTILL_TRY(auto variant, parse_variant(first.variant));
  build.variants = {variant};
  for (const auto& r : records) {
    build.archs.push_back(r.arch);
  }
  build.outputs = request.outputs;
  DISTILL_TRY(build.compression, archive::parse_compression(first.compression));
  build.source_date_epoch = first.source_date_epoch;
  build.apt_root = request.apt_root;
  // A chain that names no release was built with the host's default, as build does.
  build.default_release = debian::default_release(request.apt_root);
  build.allow_release_rollback = request.allow_release_rollback;
  build.release_max_age = 0;  // what the mirror holds now, like build --refresh
  build.jobs = request.jobs;
  build.registry = request.registry;

  DISTILL_TRY(auto plan, plan_chains(build, chains, env));
  if (!request.only.empty()) {
    // The newest resolution, then the same chain from a lock that keeps the
    // other packages where they are.
    DISTILL_TRY(build.lock_file,
                pinned_lock(records, plan.images.at(0), request, env, key_dir.path()));
    DISTILL_TRY(plan, plan_chains(build, chains, env));
  }
  ImagePlan& image = plan.images.at(0);
  // The runtime settings and annotations are the image's own: kept as they are.
  for (size_t i = 0; i < image.archs.size() && i < loaded.manifests.size(); ++i) {
    oci::ImageConfig config = loaded.manifests[i].config;
    config.diff_ids.clear();
    config.history.clear();
    image.archs[i].config = std::move(config);
  }
  image.annotations = loaded.manifests.front().manifest.annotations;
  image.annotations.erase(std::string(k_provenance_annotation));
  image.lock.spec_digest = first.spec_digest;

  UpdateResult result;
  result.changes = changes(records, image);
  DISTILL_TRY(auto images, execute(plan, build, env));
  result.build = build_result(image, std::move(images.at(0)));
  BuildResult& out = result.build;
  out.spec = request.image;
  DISTILL_CHECK(env.check_not_stopped());
  DISTILL_TRY(out.outputs_written, write_outputs(out.image, request.outputs, {out.name, out.tag},
                                                 request.registry, env.progress));
  if (!request.lock_out.empty()) {
    DISTILL_CHECK(util::write_file_atomic(request.lock_out, debian::to_json(out.lock)));
  }
  return result;
}

}  // namespace distill::image
