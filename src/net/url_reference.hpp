// resolve_url: a URL reference (an HTTP Location header, say) resolved against
// the URL it came with, as RFC 3986 section 5.2 does: absolute references are
// kept, "//host/p" takes the base's scheme, "/p" its scheme and authority,
// "?q" its path, and a relative path is merged with the base's directory, its
// "." and ".." segments removed. A fragment is dropped (never sent).
#pragma once

#include <string>
#include <string_view>

namespace distill::net {

std::string resolve_url(std::string_view base, std::string_view reference);

}  // namespace distill::net
