// The examples shown by --help and the manual pages: see help_examples.hpp.
#include "cli/help_examples.hpp"

#include <map>

namespace distill::cli {

namespace {

using Examples = std::vector<HelpExample>;

const std::map<std::string, Examples, std::less<>>& all_examples() {
  static const std::map<std::string, Examples, std::less<>> examples{
      {"",
       {{"Build the cc flavor into an OCI layout and run it", "distill build cc -o oci:out/cc"},
        {"List the built-in flavors", "distill flavors"},
        {"See what an image is made of", "distill inspect oci:out/cc:latest"}}},
      {"build",
       {{"Build a spec as nonroot into an archive that docker/podman load",
         "distill build app.yaml --variant nonroot -o docker-archive:app.tar"},
        {"One index with two architectures, pushed with an SBOM",
         "distill build base --arch amd64,arm64 --sbom -o docker://127.0.0.1:5000/base:12"},
        {"CI runners sharing layers through a registry",
         "distill build app.yaml --lock app.lock --cache-from docker://127.0.0.1:5000/cache "
         "--cache-to docker://127.0.0.1:5000/cache -o oci:out/app"}}},
      {"lock",
       {{"Pin the packages a spec resolves to", "distill lock app.yaml -o app.lock"},
        {"Build exactly those packages later",
         "distill build app.yaml --lock app.lock --frozen -o oci:out/app"}}},
      {"update",
       {{"Bring an image to the newest packages of its release",
         "distill update oci:out/app:latest -o oci:out/app:latest"},
        {"Move only tzdata and the CA certificates, into a new tag, and keep the lock",
         "distill update oci:out/app:1.0 -o oci:out/app:1.1 --only tzdata,ca-certificates "
         "--lock-out app.lock"},
        {"A spec whose source names its own keyring: give the file",
         "distill update oci:out/app -o oci:out/app --keyring repo.gpg"}}},
      {"copy",
       {{"Push an OCI layout to a local registry",
         "distill copy oci:out/cc:latest docker://127.0.0.1:5000/cc:latest --tls-verify=false"},
        {"Turn a layout into a docker-archive", "distill copy oci:out/cc docker-archive:cc.tar"},
        {"Push an image with the SBOMs attached to it (build --sbom)",
         "distill copy oci:out/app:1.0 docker://127.0.0.1:5000/app:1.0 --referrers"}}},
      {"inspect",
       {{"Layers, what each holds, the largest files and the size per package",
         "distill inspect oci:out/java17:latest"},
        {"The same as JSON, for the arm64 manifest",
         "distill inspect oci-archive:base.tar --arch arm64 --json"},
        {"Only the installed Debian packages",
         "distill inspect docker-archive:app.tar --packages"}}},
      {"diff",
       {{"What changed between two builds (exit 1 when they differ)",
         "distill diff oci:out/app:1.0 oci:out/app:1.1"},
        {"The same as JSON, for the arm64 images of two archives",
         "distill diff oci-archive:old.tar oci-archive:new.tar --platform linux/arm64 --json"},
        {"A local build against what the registry serves",
         "distill diff oci:out/app:latest docker://127.0.0.1:5000/app:latest"}}},
      {"run",
       {{"Run an image's entrypoint with runc, no daemon", "distill run oci:out/hello:latest"},
        {"Look around a debug variant with its busybox",
         "distill run oci:out/cc:debug --entrypoint /busybox/ls -- -l /etc"},
        {"Serve on the host's network with an environment override",
         "distill run oci:out/app --network host -e PORT=8000 -- --verbose"}}},
      {"audit",
       {{"Check the distroless properties (exit 1 on a finding)", "distill audit oci:out/cc"},
        {"The findings as JSON", "distill audit docker-archive:app.tar --json"}}},
      {"sbom",
       {{"An SPDX 2.3 SBOM on stdout", "distill sbom oci:out/cc:latest"},
        {"A CycloneDX 1.5 SBOM into a file",
         "distill sbom oci:out/cc --format cyclonedx-json -o cc.cdx.json"}}},
      {"outdated",
       {{"Which packages of an image have updates, with urgency and CVEs",
         "distill outdated oci:out/cc:latest"},
        {"Fail a CI job when anything is outdated (exit 1)",
         "distill outdated app.lock --exit-code --json"},
        {"The packages a spec's lock pins, against the spec's sources",
         "distill outdated app.yaml --lock app.lock"}}},
      {"test",
       {{"Run container-structure-test configs",
         "distill test oci:out/app -c tests/app.yaml -c tests/common.yaml"},
        {"A JUnit report for CI", "distill test oci:out/app -c tests/app.yaml --output junit"}}},
      {"prune",
       {{"Remove what no build has used for 30 days", "distill prune"},
        {"See what a week's limit would remove, removing nothing",
         "distill prune --unused-for 7d --dry-run"},
        {"Empty the cache (the release dates it has seen are kept)", "distill prune --all"}}},
      {"flavors",
       {{"List the built-in flavors", "distill flavors"},
        {"Build one of them", "distill build python3 -o oci:out/python3"}}},
      {"completion",
       {{"Complete distill in the current bash", "source <(distill completion bash)"},
        {"Install the zsh completion", "distill completion zsh > ~/.zsh/completions/_distill"},
        {"Install the fish completion",
         "distill completion fish > ~/.config/fish/completions/distill.fish"}}},
  };
  return examples;
}

}  // namespace

const std::vector<HelpExample>& help_examples(std::string_view command) {
  static const Examples k_none;
  auto found = all_examples().find(command);
  return found == all_examples().end() ? k_none : found->second;
}

std::string examples_footer(std::string_view command) {
  const auto& examples = help_examples(command);
  if (examples.empty()) {
    return "";
  }
  std::string out = "Examples:\n";
  for (const auto& example : examples) {
    out += "  # " + example.what + "\n  " + example.command + "\n";
  }
  return out;
}

}  // namespace distill::cli
