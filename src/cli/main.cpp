#include "cli/main.hpp"

#include <cstdio>

namespace distill::cli {

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  std::fputs("distill: not yet\n", stderr);
  return 2;
}

}  // namespace distill::cli
