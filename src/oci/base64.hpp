// Base64 (RFC 4648, standard alphabet, padded) for registry credentials: the
// "auth" field of auth files and HTTP Basic authorization.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace distill::oci {

std::string base64_encode(std::string_view data);

// nullopt on a character outside the alphabet (padding and line breaks are
// skipped).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace distill::oci
