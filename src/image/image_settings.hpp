// How a spec and a variant shape the image config (the runtime settings in
// config.json): environment, user, working directory, entrypoint, command,
// ports, volumes, labels, stop signal. Values are inherited along the `from:`
// chain; a spec's own value wins over its base's, and over the variant's.
#pragma once

#include <string>

#include "image/spec.hpp"
#include "oci/image_config.hpp"
#include "util/result.hpp"

namespace distill::image {

inline constexpr std::string_view k_default_path =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

enum class Variant { Latest, Nonroot, Debug, DebugNonroot };
Result<Variant> parse_variant(std::string_view name);
std::string to_string(Variant variant);
bool is_debug(Variant variant);

// Sets K=V in an env list, replacing an existing K in place.
void set_env(std::vector<std::string>& env, const std::string& key, const std::string& value);
// The value of K in an env list, or "".
std::string get_env(const std::vector<std::string>& env, const std::string& key);

// Applies one spec's settings on top of its base's config. `user_from_spec`
// and `workdir_from_spec` record whether any spec in the chain chose them.
struct ConfigState {
  oci::ImageConfig config;
  bool user_from_spec = false;
  bool workdir_from_spec = false;
};
void apply_spec(ConfigState& state, const Spec& spec);

// The variant's user/workdir/PATH/entrypoint, without overriding spec choices.
void apply_variant(ConfigState& state, Variant variant);

}  // namespace distill::image
