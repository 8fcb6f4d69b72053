#include "cli/main.hpp"

int main(int argc, char** argv) { return distill::cli::main(argc, argv); }
