// The container process's argv and environment from an image config plus the
// user's overrides, with docker's semantics (docker run reference, "ENTRYPOINT"
// and "CMD"; OCI image-spec config.md Entrypoint/Cmd/Env).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace distill::runtime {

// argv = entrypoint + cmd, where: extra args (non-empty) replace the image's cmd;
// an entrypoint override replaces the image's entrypoint and drops its cmd (so
// only the extra args follow it); an override of {} clears the entrypoint.
std::vector<std::string> compute_args(
    const std::optional<std::vector<std::string>>& image_entrypoint,
    const std::optional<std::vector<std::string>>& image_cmd,
    const std::optional<std::vector<std::string>>& entrypoint_override,
    const std::vector<std::string>& extra_args);

// image env with overrides applied in order: "K=V" replaces K or appends it; a bare
// "K" copies K from this process's environment if set (else leaves K alone).
// Order is kept: replaced keys stay in place, new ones go last.
std::vector<std::string> merge_env(const std::vector<std::string>& image_env,
                                   const std::vector<std::string>& overrides);

}  // namespace distill::runtime
