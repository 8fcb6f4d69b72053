// Image settings: how specs along a `from:` chain and the --variant shape the
// config (CONTRACT.md, --variant): latest runs as 0 in /, nonroot as 65532 in
// /home/nonroot, debug adds /busybox to PATH and a /busybox/sh entrypoint, and a
// spec's own choices always win.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "image/image_settings.hpp"

namespace distill::image {
namespace {

using Strings = std::vector<std::string>;

const std::string k_path = std::string(k_default_path);

TEST(ImageSettings, ParseVariantKnownNames) {
  struct Case {
    const char* name;
    Variant variant;
  };
  for (const auto& c : {Case{"latest", Variant::Latest}, Case{"", Variant::Latest},
                        Case{"nonroot", Variant::Nonroot}, Case{"debug", Variant::Debug},
                        Case{"debug-nonroot", Variant::DebugNonroot}}) {
    SCOPED_TRACE(c.name);
    auto parsed = parse_variant(c.name);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(*parsed, c.variant);
  }
}

TEST(ImageSettings, ParseVariantRejectsOthersNamingTheChoices) {
  for (const char* name : {"root", "Debug", "nonroot-debug", "debug_nonroot", " latest", "all"}) {
    SCOPED_TRACE(name);
    auto parsed = parse_variant(name);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().kind, ErrorKind::InvalidInput);
    const std::string& message = parsed.error().message;
    EXPECT_NE(message.find("--variant"), std::string::npos) << message;
    EXPECT_NE(message.find("'" + std::string(name) + "'"), std::string::npos) << message;
    EXPECT_NE(message.find("latest, nonroot, debug, debug-nonroot"), std::string::npos) << message;
  }
}

TEST(ImageSettings, VariantNamesRoundTripAndDebugness) {
  for (Variant v : {Variant::Latest, Variant::Nonroot, Variant::Debug, Variant::DebugNonroot}) {
    auto parsed = parse_variant(to_string(v));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, v);
  }
  EXPECT_EQ(to_string(Variant::DebugNonroot), "debug-nonroot");
  EXPECT_FALSE(is_debug(Variant::Latest));
  EXPECT_FALSE(is_debug(Variant::Nonroot));
  EXPECT_TRUE(is_debug(Variant::Debug));
  EXPECT_TRUE(is_debug(Variant::DebugNonroot));
}

TEST(ImageSettings, SetEnvReplacesInPlaceOrAppends) {
  Strings env = {"PATH=/bin", "LANG=C.UTF-8", "PATHEXT=x"};
  set_env(env, "LANG", "en_US.UTF-8");
  EXPECT_EQ(env, (Strings{"PATH=/bin", "LANG=en_US.UTF-8", "PATHEXT=x"}));
  set_env(env, "TZ", "UTC");
  EXPECT_EQ(env, (Strings{"PATH=/bin", "LANG=en_US.UTF-8", "PATHEXT=x", "TZ=UTC"}));
  set_env(env, "PATH", "/usr/bin");  // does not touch PATHEXT
  EXPECT_EQ(env, (Strings{"PATH=/usr/bin", "LANG=en_US.UTF-8", "PATHEXT=x", "TZ=UTC"}));
  set_env(env, "EMPTY", "");
  EXPECT_EQ(env.back(), "EMPTY=");
}

TEST(ImageSettings, GetEnvMatchesTheWholeKey) {
  Strings env = {"PATHEXT=x", "PATH=/bin:/usr/bin", "A=b=c"};
  EXPECT_EQ(get_env(env, "PATH"), "/bin:/usr/bin");
  EXPECT_EQ(get_env(env, "PATHEXT"), "x");
  EXPECT_EQ(get_env(env, "A"), "b=c");
  EXPECT_EQ(get_env(env, "PAT"), "");
  EXPECT_EQ(get_env({}, "PATH"), "");
}

TEST(ImageSettings, ApplySpecOnAnEmptyConfigStartsWithTheDefaultPath) {
  ConfigState state;
  Spec spec;
  apply_spec(state, spec);
  EXPECT_EQ(state.config.env, Strings{k_path});
  EXPECT_FALSE(state.config.entrypoint);
  EXPECT_FALSE(state.config.cmd);
  EXPECT_EQ(state.config.user, "");
  EXPECT_FALSE(state.user_from_spec);
  EXPECT_FALSE(state.workdir_from_spec);
}

TEST(ImageSettings, ApplySpecSetsEverySetting) {
  ConfigState state;
  Spec spec;
  spec.env = {{"LANG", "C.UTF-8"}, {"PATH", "/app/bin:/usr/bin"}};
  spec.entrypoint = Strings{"/app/server"};
  spec.cmd = Strings{"--port", "8080"};
  spec.user = "1000:1000";
  spec.workdir = "/app";
  spec.ports = {"8080/tcp", "53/udp"};
  spec.volumes = {"/var/lib/app", "/data"};
  spec.labels = {{"org.opencontainers.image.source", "https://example.org/app"}};
  spec.stop_signal = "SIGINT";
  apply_spec(state, spec);

  const auto& c = state.config;
  // PATH replaced where it was (first), then the other keys in map order.
  EXPECT_EQ(c.env, (Strings{"PATH=/app/bin:/usr/bin", "LANG=C.UTF-8"}));
  EXPECT_EQ(c.entrypoint, Strings{"/app/server"});
  EXPECT_EQ(c.cmd, (Strings{"--port", "8080"}));
  EXPECT_EQ(c.user, "1000:1000");
  EXPECT_EQ(c.working_dir, "/app");
  EXPECT_TRUE(state.user_from_spec);
  EXPECT_TRUE(state.workdir_from_spec);
  EXPECT_EQ(c.exposed_ports, (Strings{"53/udp", "8080/tcp"}));  // sorted
  EXPECT_EQ(c.volumes, (Strings{"/data", "/var/lib/app"}));
  EXPECT_EQ(c.labels.at("org.opencontainers.image.source"), "https://example.org/app");
  EXPECT_EQ(c.stop_signal, "SIGINT");
}

TEST(ImageSettings, ApplySpecAlongAChainInheritsAndOverrides) {
  ConfigState state;
  Spec base;
  base.env = {{"LANG", "C.UTF-8"}};
  base.entrypoint = Strings{"/usr/bin/python3"};
  base.cmd = Strings{"-V"};
  base.ports = {"80/tcp"};
  base.volumes = {"/data"};
  base.labels = {{"a", "1"}, {"b", "2"}};
  base.stop_signal = "SIGTERM";
  apply_spec(state, base);

  Spec top;
  top.env = {{"LANG", "en_US.UTF-8"}, {"APP", "1"}};
  top.cmd = Strings{"/app/main.py"};  // a cmd alone keeps the base's entrypoint
  top.ports = {"80/tcp", "443/tcp"};  // 80 is not listed twice
  top.volumes = {"/data"};
  top.labels = {{"b", "3"}};
  apply_spec(state, top);

  const auto& c = state.config;
  EXPECT_EQ(c.env, (Strings{k_path, "LANG=en_US.UTF-8", "APP=1"}));
  EXPECT_EQ(c.entrypoint, Strings{"/usr/bin/python3"});
  EXPECT_EQ(c.cmd, Strings{"/app/main.py"});
  EXPECT_EQ(c.exposed_ports, (Strings{"443/tcp", "80/tcp"}));
  EXPECT_EQ(c.volumes, Strings{"/data"});
  EXPECT_EQ(c.labels.at("a"), "1");
  EXPECT_EQ(c.labels.at("b"), "3");
  EXPECT_EQ(c.stop_signal, "SIGTERM");  // an empty stop signal inherits
  EXPECT_FALSE(state.user_from_spec);
}

TEST(ImageSettings, ANewEntrypointDropsTheInheritedCmd) {
  // Docker semantics: ENTRYPOINT resets CMD.
  ConfigState state;
  Spec base;
  base.entrypoint = Strings{"/bin/app"};
  base.cmd = Strings{"serve"};
  apply_spec(state, base);
  Spec top;
  top.entrypoint = Strings{"/bin/other"};
  apply_spec(state, top);
  EXPECT_EQ(state.config.entrypoint, Strings{"/bin/other"});
  EXPECT_FALSE(state.config.cmd);

  Spec both;
  both.entrypoint = Strings{"/bin/third"};
  both.cmd = Strings{"x"};
  apply_spec(state, both);
  EXPECT_EQ(state.config.entrypoint, Strings{"/bin/third"});
  EXPECT_EQ(state.config.cmd, Strings{"x"});
}

TEST(ImageSettings, ApplySpecKeepsAnInheritedEnv) {
  // An image reference base brings its own env: no default PATH is prepended.
  ConfigState state;
  state.config.env = {"PATH=/opt/bin", "HOME=/root"};
  apply_spec(state, Spec{});
  EXPECT_EQ(state.config.env, (Strings{"PATH=/opt/bin", "HOME=/root"}));
}

ConfigState plain_state() {
  ConfigState state;
  apply_spec(state, Spec{});
  return state;
}

TEST(ImageSettings, VariantLatestRunsAsRootInSlash) {
  ConfigState state = plain_state();
  apply_variant(state, Variant::Latest);
  EXPECT_EQ(state.config.user, "0");
  EXPECT_EQ(state.config.working_dir, "/");
  EXPECT_EQ(state.config.env, Strings{k_path});
  EXPECT_FALSE(state.config.entrypoint);
}

TEST(ImageSettings, VariantNonrootRunsAs65532InItsHome) {
  ConfigState state = plain_state();
  apply_variant(state, Variant::Nonroot);
  EXPECT_EQ(state.config.user, "65532");
  EXPECT_EQ(state.config.working_dir, "/home/nonroot");
  EXPECT_EQ(state.config.env, Strings{k_path});
  EXPECT_FALSE(state.config.entrypoint);
}

TEST(ImageSettings, VariantDebugAddsBusyboxShellAndPath) {
  ConfigState state = plain_state();
  apply_variant(state, Variant::Debug);
  EXPECT_EQ(state.config.user, "0");
  EXPECT_EQ(state.config.working_dir, "/");
  EXPECT_EQ(get_env(state.config.env, "PATH"),
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/busybox");
  EXPECT_EQ(state.config.env.size(), 1U);
  EXPECT_EQ(state.config.entrypoint, Strings{"/busybox/sh"});
}

TEST(ImageSettings, VariantDebugNonrootCombinesBoth) {
  ConfigState state = plain_state();
  apply_variant(state, Variant::DebugNonroot);
  EXPECT_EQ(state.config.user, "65532");
  EXPECT_EQ(state.config.working_dir, "/home/nonroot");
  EXPECT_EQ(get_env(state.config.env, "PATH"), k_path.substr(5) + ":/busybox");
  EXPECT_EQ(state.config.entrypoint, Strings{"/busybox/sh"});
}

TEST(ImageSettings, VariantDebugWithoutPathGivesJustBusybox) {
  ConfigState state;
  state.config.env = {"LANG=C"};
  apply_variant(state, Variant::Debug);
  EXPECT_EQ(state.config.env, (Strings{"LANG=C", "PATH=/busybox"}));
}

TEST(ImageSettings, SpecChoicesWinOverEveryVariant) {
  for (Variant v : {Variant::Latest, Variant::Nonroot, Variant::Debug, Variant::DebugNonroot}) {
    SCOPED_TRACE(to_string(v));
    ConfigState state;
    Spec spec;
    spec.user = "1234";
    spec.workdir = "/srv";
    spec.entrypoint = Strings{"/srv/app"};
    spec.cmd = Strings{"run"};
    apply_spec(state, spec);
    apply_variant(state, v);
    EXPECT_EQ(state.config.user, "1234");
    EXPECT_EQ(state.config.working_dir, "/srv");
    EXPECT_EQ(state.config.entrypoint, Strings{"/srv/app"});
    EXPECT_EQ(state.config.cmd, Strings{"run"});
    bool has_busybox = get_env(state.config.env, "PATH").find("/busybox") != std::string::npos;
    EXPECT_EQ(has_busybox, is_debug(v));  // PATH still gets /busybox in debug variants
  }
}

TEST(ImageSettings, ASpecUserAloneStillGetsTheVariantWorkdir) {
  ConfigState state;
  Spec spec;
  spec.user = "app";
  apply_spec(state, spec);
  apply_variant(state, Variant::Nonroot);
  EXPECT_EQ(state.config.user, "app");
  EXPECT_EQ(state.config.working_dir, "/home/nonroot");
  EXPECT_TRUE(state.user_from_spec);
  EXPECT_FALSE(state.workdir_from_spec);
}

TEST(ImageSettings, AUserFromABaseSpecIsKeptByTheVariant) {
  // user_from_spec covers the whole chain, not just the top spec.
  ConfigState state;
  Spec base;
  base.user = "999";
  apply_spec(state, base);
  apply_spec(state, Spec{});
  apply_variant(state, Variant::Latest);
  EXPECT_EQ(state.config.user, "999");
  EXPECT_EQ(state.config.working_dir, "/");
}

}  // namespace
}  // namespace distill::image
