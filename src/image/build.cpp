#include "image/build.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "image/execute.hpp"
#include "image/from_chain.hpp"
#include "image/layer_cache.hpp"
#include "image/output_staging.hpp"
#include "image/plan.hpp"
#include "image/remote_layer_cache.hpp"
#include "oci/image_ref.hpp"
#include "util/text.hpp"

namespace distill::image {

namespace {

// Usage errors of the output `ref` (expanded from -o `t`) of image `id`: an
// image of several platforms into a docker-archive, or a file or directory
// that another output writes too (`paths`, updated).
Status check_writable(
    const std::string& t, const std::string& ref, const ImageIdentity& id,
    std::map<std::filesystem::path, std::pair<oci::ImageRef::Transport, std::string>>& paths) {
  auto parsed = oci::ImageRef::parse(ref);
  if (!parsed.ok() || parsed->transport == oci::ImageRef::Transport::Registry) {
    return {};
  }
  if (parsed->transport == oci::ImageRef::Transport::DockerArchive && id.archs.size() > 1) {
    return make_error(ErrorKind::InvalidInput,
                      "usage: -o '" + t + "': a docker-archive holds one platform, but " + id.name +
                          ":" + id.tag + " is built for " + util::join(id.archs, ", ") +
                          "; build one --arch for it, or write an oci-archive");
  }
  std::error_code ec;
  std::filesystem::path where = std::filesystem::absolute(parsed->path, ec);
  where = (ec ? parsed->path : where).lexically_normal();
  auto [it, first] = paths.try_emplace(where, parsed->transport, t);
  if (!first && (it->second.first != oci::ImageRef::Transport::OciLayout ||
                 parsed->transport != oci::ImageRef::Transport::OciLayout)) {
    return make_error(ErrorKind::InvalidInput,
                      "usage: -o '" + t + "': " + parsed->path.string() + " is written by -o '" +
                          it->second.second +
                          "' too; an archive holds one image, and only OCI layouts can share "
                          "a directory");
  }
  return {};
}

// Every image's output references, in request order, found from the specs
// alone, so a clash is a usage error before any request.
Result<std::vector<std::vector<std::string>>> image_outputs(const BuildRequest& request,
                                                            const std::vector<NamedChain>& chains) {
  std::vector<std::string> templates = request.outputs;
  if (templates.empty()) {
    templates.emplace_back("oci:./out/{name}:{tag}");
  }
  std::vector<std::vector<std::string>> out;
  std::set<std::string> taken;
  // The file or directory each output writes, and the first -o that writes it:
  // an archive holds one image, and a layout is a directory, so only layouts
  // may share one (each image under its own tag).
  std::map<std::filesystem::path, std::pair<oci::ImageRef::Transport, std::string>> paths;
  for (const auto& [spec, chain] : chains) {
    for (Variant variant : request.variants) {
      ImageIdentity id = image_identity(request, spec, chain, variant);
      OutputFields fields{id.name, to_string(variant), id.tag, debian_tag(id.release)};
      std::vector<std::string> refs;
      for (const auto& t : templates) {
        std::string ref = expand_output(t, fields);
        if (!taken.insert(ref).second) {
          return make_error(ErrorKind::InvalidInput,
                            "usage: -o '" + t + "': two images would be written to " + ref +
                                "; add {name}, {variant} or {debian} to tell them apart");
        }
        DISTILL_CHECK(check_writable(t, ref, id, paths));
        refs.push_back(std::move(ref));
      }
      out.push_back(std::move(refs));
    }
  }
  return out;
}

}  // namespace

Status check_outputs(const BuildRequest& request) {
  for (size_t i = 0; i < request.specs.size(); ++i) {
    if (std::find(request.specs.begin(), request.specs.begin() + static_cast<long>(i),
                  request.specs[i]) != request.specs.begin() + static_cast<long>(i)) {
      return make_error(ErrorKind::InvalidInput, "usage: " + request.specs[i] + " is named twice");
    }
  }
  for (const auto& o : request.outputs) {
    DISTILL_CHECK(check_output_template(o));
    // A reference that cannot be parsed is found now, not after the build.
    auto parsed = oci::ImageRef::parse(expand_output(o, {"name", "latest", "latest", "debian12"}));
    Status writable = parsed.ok() ? oci::check_destination(*parsed) : Status(parsed.error());
    if (!writable.ok()) {
      return make_error(ErrorKind::InvalidInput,
                        "usage: -o '" + o + "': " + writable.error().message);
    }
  }
  size_t images = request.specs.size() * request.variants.size();
  if (images > 1) {
    for (const auto& o : request.outputs) {
      if (!has_placeholders(o)) {
        return make_error(ErrorKind::InvalidInput, "usage: -o '" + o + "' names one image, but " +
                                                       std::to_string(images) +
                                                       " are built; use placeholders such as "
                                                       "'oci:out/{name}-{debian}:{variant}'");
      }
    }
  }
  return {};
}

namespace {

// Removes the layer cache's blobs of `image` that no longer hold their
// digest; true when there was one.
bool drop_damaged_layers(const LayerCache& layers, const oci::Image& image) {
  bool dropped = false;
  for (const auto& manifest : image.manifests) {
    for (const auto& layer : manifest.layers) {
      dropped = layers.drop_if_damaged(layer) || dropped;
    }
  }
  return dropped;
}

}  // namespace

BuildResult build_result(ImagePlan& plan, oci::Image image) {
  BuildResult result;
  result.name = plan.name;
  result.tag = plan.tag;
  result.spec = plan.spec;
  result.variant = plan.variant;
  result.release = plan.release;
  for (auto& arch : plan.archs) {
    result.archs.push_back(arch.arch);
    result.packages[arch.arch] = std::move(arch.packages);
  }
  result.image = std::move(image);
  result.lock = std::move(plan.lock);
  return result;
}

Result<PreparedBuild> prepare_build(const BuildRequest& request) {
  DISTILL_CHECK(check_outputs(request));
  PreparedBuild prepared;
  // Once, for the outputs and the plan.
  DISTILL_TRY(prepared.chains, load_chains(request));
  DISTILL_TRY(prepared.outputs, image_outputs(request, prepared.chains));
  if (!request.cache_from.empty()) {
    DISTILL_TRY(prepared.cache_from, layer_cache_ref(request.cache_from, "--cache-from"));
  }
  if (!request.cache_to.empty()) {
    DISTILL_TRY(prepared.cache_to, layer_cache_ref(request.cache_to, "--cache-to"));
    if (!prepared.cache_to->digest.empty()) {
      return make_error(ErrorKind::InvalidInput,
                        "usage: --cache-to '" + request.cache_to + "': needs a tag, not a digest");
    }
  }
  return prepared;
}

Result<std::vector<BuildResult>> build_images(const BuildRequest& request, BuildEnv& env) {
  DISTILL_TRY(auto prepared, prepare_build(request));
  return build_images(request, prepared, env);
}

Result<std::vector<BuildResult>> build_images(const BuildRequest& request,
                                              const PreparedBuild& prepared, BuildEnv& env) {
  const std::vector<std::vector<std::string>>& outputs = prepared.outputs;
  const std::optional<oci::ImageRef>& cache_from = prepared.cache_from;
  const std::optional<oci::ImageRef>& cache_to = prepared.cache_to;
  DISTILL_TRY(auto plan, plan_chains(request, prepared.chains, env));
  std::optional<RegistryConnection> registry;
  if (cache_from || cache_to) {
    DISTILL_TRY(registry, connect_registry(request.registry));
  }
  const LayerCache layers(env.cache.dir());
  if (cache_from) {
    std::vector<std::string> missing;
    for (const auto& node : plan.nodes) {
      if (node.kind != LayerNode::Kind::Base && !layers.lookup(node.key)) {
        missing.push_back(node.key);
      }
    }
    import_layer_cache(*registry->client, *cache_from, missing, layers, env.cache, env.progress);
  }
  // New layers are copied beside the oci: outputs as they are made, while
  // other layers are still being made (image/output_staging.hpp).
  OutputStaging staging(outputs);
  auto run = [&] {
    return execute(plan, request, env, [&staging](size_t image, const oci::LayerBlob& blob) {
      staging.stage(image, blob);
    });
  };
  DISTILL_TRY(auto images, run());
  // Outputs last, image by image: a failure leaves the outputs of the images
  // after it untouched.
  std::vector<std::vector<std::string>> written(images.size());
  bool made_again = false;
  for (size_t i = 0; i < images.size();) {
    const ImagePlan& image = plan.images[i];
    const std::string what = image.name + ":" + image.tag;
    DISTILL_CHECK(env.check_not_stopped());
    auto wrote = write_outputs(images[i], outputs[i], {image.name, image.tag}, request.registry,
                               env.progress, &staging);
    if (!wrote.ok() && wrote.error().kind == ErrorKind::Corrupt && !made_again &&
        drop_damaged_layers(layers, images[i])) {
      // A cached layer damaged in place, which its unchanged size and mtime
      // hid from the lookup: made again, once, and this image written again.
      env.progress.warn(what + ": " + wrote.error().message + "; making the layer again");
      made_again = true;
      DISTILL_TRY(images, run());
      continue;
    }
    if (!wrote.ok()) {
      return wrote.error().context(what);
    }
    written[i] = std::move(wrote).value();
    ++i;
  }
  std::vector<BuildResult> results;
  for (size_t i = 0; i < plan.images.size(); ++i) {
    results.push_back(build_result(plan.images[i], std::move(images[i])));
    results.back().outputs_written = std::move(written[i]);
  }
  // The layer cache last: a registry that refuses it costs no output.
  if (cache_to) {
    DISTILL_CHECK(env.check_not_stopped());
    // Every layer this build used, as the local cache now holds it.
    std::vector<CacheEntry> entries;
    for (const auto& node : plan.nodes) {
      if (node.kind == LayerNode::Kind::Base) {
        continue;
      }
      if (auto blob = layers.lookup(node.key)) {
        entries.push_back({node.key, std::move(*blob)});
      }
    }
    auto exported = export_layer_cache(*registry->client, *cache_to, entries, env.progress);
    if (!exported.ok()) {
      return exported.error().context("--cache-to " + cache_to->to_string());
    }
  }
  return results;
}

Result<std::vector<NamedChain>> lock_chains(const BuildRequest& request) {
  if (request.specs.size() != 1 || request.variants.size() != 1) {
    return make_error(ErrorKind::InvalidInput, "usage: `distill lock` takes one spec");
  }
  return load_chains(request);
}

Result<debian::LockFile> lock_image(const BuildRequest& request,
                                    const std::vector<NamedChain>& chains, BuildEnv& env) {
  DISTILL_TRY(auto plan, plan_chains(request, chains, env, false));
  return std::move(plan.images.at(0).lock);
}

Result<debian::LockFile> lock_image(const BuildRequest& request, BuildEnv& env) {
  DISTILL_TRY(auto chains, lock_chains(request));
  return lock_image(request, chains, env);
}

}  // namespace distill::image
