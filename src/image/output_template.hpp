// Output references for many images at once: `-o` may carry placeholders that
// each image fills in, so one flag names the whole family:
//   oci:out/{name}-{debian}:{variant}   -> oci:out/cc-debian12:nonroot
// {name} the image's name, {variant} latest|nonroot|debug|debug-nonroot,
// {tag} the image's tag, {debian} debian12 / debian13 (from the release).
#pragma once

#include <string>

#include "util/result.hpp"

namespace distill::image {

struct OutputFields {
  std::string name;
  std::string variant;
  std::string tag;
  std::string debian;
};

// A usage error for an unknown or unclosed placeholder, naming it.
Status check_output_template(const std::string& reference);
// Whether the reference has any placeholder.
bool has_placeholders(const std::string& reference);
// The reference with its placeholders filled in (check it first).
std::string expand_output(const std::string& reference, const OutputFields& fields);

}  // namespace distill::image
