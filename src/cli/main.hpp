// The command-line entry point: parses argv, dispatches to one cmd_<name>.cpp,
// and is the single place that turns an Error into `distill: error: ...`.
#pragma once

namespace distill::cli {

int main(int argc, char** argv);

}  // namespace distill::cli
