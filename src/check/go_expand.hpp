// `$VAR` and `${VAR}` substitution with the rules of Go's os.Expand, which
// container-structure-test applies (with the image's environment) to a command
// test's argv, to env var values and to a fileExistenceTest's path:
//  - `$NAME` takes the longest run of [A-Za-z0-9_]; `${NAME}` anything up to `}`;
//  - `$` followed by one of * # $ @ ! ? - or a digit names that one character
//    (`$$` is the variable "$", so it expands to "");
//  - an unknown name expands to "";
//  - `${}` and an unterminated `${` are dropped; a `$` before anything else, or
//    at the end, stays.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace distill::check {

std::string go_expand(std::string_view text, const std::map<std::string, std::string>& env);

}  // namespace distill::check
