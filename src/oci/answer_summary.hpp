// answer_summary: the body of a registry's (or a proxy's) error answer as one
// short line for an error message. The distribution spec's JSON errors give
// "CODE: message" for each; anything else (an HTML page from a proxy, plain
// text) has its tags dropped and its white space folded, and is cut to a
// couple of hundred characters.
#pragma once

#include <string>
#include <string_view>

namespace distill::oci {

std::string answer_summary(std::string_view body);

}  // namespace distill::oci
