// Structure tests: config parsing (errors with lines), each test kind passing and
// failing with "expected ..., found ..." messages, command tests through a fake
// executor and, when root and runc are available, through runc with busybox.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "check/structure_test.hpp"
#include "runtime/runner.hpp"
#include "test_image.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

namespace distill::check {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // NOLINT

class FakeExecutor final : public CommandExecutor {
 public:
  Result<ExecResult> exec(const ExecRequest& request) override {
    calls.push_back(request);
    std::string joined;
    for (const auto& arg : request.argv) {
      joined += (joined.empty() ? "" : " ") + arg;
    }
    if (joined == "touch /marker") {
      marker = true;
      return ExecResult{0, "", ""};
    }
    if (joined == "rm /marker") {
      marker = false;
      return ExecResult{0, "", ""};
    }
    if (joined == "cat /marker") {
      return marker ? ExecResult{0, "marker here\n", ""} : ExecResult{1, "", "no marker\n"};
    }
    if (joined == "env") {
      std::string out;
      for (const auto& kv : request.env) {
        out += kv + "\n";
      }
      return ExecResult{0, out, ""};
    }
    return ExecResult{3, "some output\n", "an error\n"};
  }
  Status reset() override {
    ++resets;
    marker = false;
    return {};
  }
  std::vector<ExecRequest> calls;
  bool marker = false;
  int resets = 0;
};

class StructureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = std::make_unique<util::TempDir>(*util::TempDir::create());
    std::vector<Entry> layer = base_layer();
    layer.push_back(dir("usr/bin"));
    layer.push_back(file("usr/bin/tool", "#!tool", 0750));
    layer.push_back(symlink("usr/bin/alias", "tool"));
    write_layer(m_dir->path() / "l.tar.gz", layer);
    auto view = ImageView::load({m_dir->path() / "l.tar.gz"}, "test");
    ASSERT_TRUE(view.ok());
    m_view = std::make_unique<ImageView>(std::move(*view));
    m_config = base_config();
    m_config.labels["org.opencontainers.image.source"] = "https://example.org/app";
    m_config.exposed_ports = {"8080/tcp"};
    m_config.volumes = {"/data"};
  }

  TestReport run(const std::string& yaml, CommandExecutor* executor = nullptr) {
    auto config = parse_structure_test(yaml, "test.yaml");
    EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error().message);
    return run_structure_tests(*config, *m_view, m_config, executor);
  }

  std::unique_ptr<util::TempDir> m_dir;
  std::unique_ptr<ImageView> m_view;
  oci::ImageConfig m_config;
};

TEST(StructureTestParse, ErrorsNameFileLineAndKey) {
  auto bad = parse_structure_test(
      "schemaVersion: 1.0.0\nfileExistenceTests:\n  - name: x\n    pathh: /etc\n"
      "    uid: notanumber\n",
      "cfg.yaml");
  ASSERT_FALSE(bad.ok());
  const std::string& message = bad.error().message;
  EXPECT_NE(message.find("cfg.yaml:1: schemaVersion"), std::string::npos) << message;
  EXPECT_NE(message.find("cfg.yaml:4: fileExistenceTests: unknown key \"pathh\""),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("cfg.yaml:5: fileExistenceTests.uid"), std::string::npos) << message;
  EXPECT_NE(message.find("missing path"), std::string::npos) << message;

  auto syntax = parse_structure_test("schemaVersion: [\n", "broken.yaml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().message.rfind("broken.yaml:", 0), 0U);
}

TEST_F(StructureTest, FileExistencePassesAndFailsWithExpectedAndFound) {
  TestReport report = run(R"(schemaVersion: 2.0.0
fileExistenceTests:
  - {name: passwd, path: /etc/passwd, shouldExist: true, permissions: "-rw-r--r--", uid: 0, gid: 0}
  - {name: tmp, path: /tmp, permissions: "dtrwxrwxrwx"}
  - {name: home, path: /home/nonroot, permissions: "drwx------", uid: 65532, gid: 65532}
  - {name: link, path: /etc/os-release, permissions: "Lrwxrwxrwx"}
  - {name: exec, path: /usr/bin/tool, isExecutableBy: group}
  - {name: no-sh, path: /bin/sh, shouldExist: false}
  - {name: wrong-mode, path: /etc/group, permissions: "-rwxr-xr-x", uid: 1}
  - {name: missing, path: /etc/missing}
  - {name: not-other-exec, path: /usr/bin/tool, isExecutableBy: other}
  - {name: present, path: /etc/passwd, shouldExist: false}
)");
  ASSERT_EQ(report.results.size(), 10U);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_TRUE(report.results[i].passed)
        << report.results[i].name << ": " << report.results[i].errors.front();
  }
  EXPECT_EQ(report.failures(), 4U);
  const auto& wrong = report.results[6].errors;
  ASSERT_EQ(wrong.size(), 2U);
  EXPECT_EQ(wrong[0], "/etc/group: expected permissions -rwxr-xr-x, found -rw-r--r--");
  EXPECT_EQ(wrong[1], "/etc/group: expected uid 1, found 0");
  EXPECT_EQ(report.results[7].errors[0], "expected /etc/missing to exist, found nothing");
  EXPECT_NE(report.results[8].errors[0].find("found permissions -rwxr-x---"), std::string::npos);
  EXPECT_NE(report.results[9].errors[0].find("not to exist"), std::string::npos);
}

TEST_F(StructureTest, FileContentRegexes) {
  TestReport report = run(R"(schemaVersion: "2.0.0"
fileContentTests:
  - name: passwd
    path: /etc/passwd
    expectedContents: ['root:x:0:0:root:/root:/sbin/nologin', '(?m)^nonroot:x:65532:65532:']
    excludedContents: ['bash']
  - name: os-release through its link
    path: /etc/os-release
    expectedContents: ['VERSION_ID="12"', '(?i)id="DEBIAN"']
  - name: failing
    path: /etc/group
    expectedContents: ['^wheel:']
    excludedContents: ['nonroot']
)");
  ASSERT_EQ(report.results.size(), 3U);
  EXPECT_TRUE(report.results[0].passed) << report.results[0].errors.front();
  EXPECT_TRUE(report.results[1].passed) << report.results[1].errors.front();
  ASSERT_EQ(report.results[2].errors.size(), 2U);
  EXPECT_NE(
      report.results[2].errors[0].find("expected contents of /etc/group to match \"^wheel:\""),
      std::string::npos);
  EXPECT_NE(report.results[2].errors[1].find("not to match \"nonroot\", found \"nonroot\""),
            std::string::npos);
}

TEST_F(StructureTest, MetadataOmittedListsAreUncheckedEmptyListsMustBeEmpty) {
  TestReport pass = run(R"(schemaVersion: 2.0.0
metadataTest:
  envVars:
    - {key: PATH, value: /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
    - {key: SSL_CERT_FILE, value: 'ca-certificates\.crt$', isRegex: true}
  unboundEnvVars: [{key: LANG}]
  labels: [{key: org.opencontainers.image.source, value: 'https://.*', isRegex: true}]
  exposedPorts: ["8080"]
  unexposedPorts: ["22"]
  volumes: [/data]
  unmountedVolumes: [/tmp]
  entrypoint: []
  workdir: /home/nonroot
  user: "65532"
)");
  ASSERT_EQ(pass.results.size(), 1U);
  EXPECT_TRUE(pass.passed()) << pass.results[0].errors.front();

  m_config.entrypoint = std::vector<std::string>{"/app"};
  TestReport fail = run(R"(schemaVersion: 2.0.0
metadataTest:
  envVars: [{key: LANG, value: C.UTF-8}]
  entrypoint: []
  cmd: ["--serve"]
  user: root
  exposedPorts: ["9090"]
)");
  ASSERT_EQ(fail.results.size(), 1U);
  std::vector<std::string> expected{
      "expected env var LANG=\"C.UTF-8\", found it unset",
      "expected port 9090 to be exposed, found [\"8080/tcp\"]",
      "expected entrypoint [], found [\"/app\"]",
      "expected cmd [\"--serve\"], found []",
      "expected user \"root\", found \"65532\"",
  };
  EXPECT_EQ(fail.results[0].errors, expected);
  // entrypoint omitted: not checked.
  EXPECT_TRUE(run("schemaVersion: 2.0.0\nmetadataTest:\n  workdir: /home/nonroot\n").passed());
}

TEST_F(StructureTest, LicenseTestFailsOnAgpl) {
  EXPECT_TRUE(run("schemaVersion: 2.0.0\nlicenseTests:\n  - debian: true\n").passed());
  std::vector<Entry> layer = base_layer();
  layer.push_back(dir("usr/share/doc/evil"));
  layer.push_back(file("usr/share/doc/evil/copyright", "License: AGPL-3+\n"));
  write_layer(m_dir->path() / "agpl.tar.gz", layer);
  m_view = std::make_unique<ImageView>(*ImageView::load({m_dir->path() / "agpl.tar.gz"}, "test"));
  TestReport report = run("schemaVersion: 2.0.0\nlicenseTests:\n  - debian: true\n");
  ASSERT_FALSE(report.passed());
  EXPECT_EQ(report.results[0].errors,
            std::vector<std::string>{
                "expected no AGPL license, found AGPL in /usr/share/doc/evil/copyright"});
}

TEST_F(StructureTest, CommandTestsWithSetupEnvAndRegexes) {
  FakeExecutor executor;
  TestReport report = run(R"(schemaVersion: 2.0.0
globalEnvVars: [{key: GLOBAL, value: "1"}]
commandTests:
  - name: setup persists
    setup: [["touch", "/marker"]]
    command: cat
    args: [/marker]
    expectedOutput: ["marker"]
    teardown: [["rm", "/marker"]]
  - name: env
    envVars: [{key: LOCAL, value: two}]
    command: env
    expectedOutput: ["GLOBAL=1", "LOCAL=two"]
  - name: failing
    command: crash
    exitCode: 0
    expectedOutput: ["wanted"]
    excludedError: ["error"]
  - name: exit code
    command: crash
    exitCode: 3
    expectedError: ["an error"]
    excludedOutput: ["absent"]
)",
                          &executor);
  ASSERT_EQ(report.results.size(), 4U);
  EXPECT_TRUE(report.results[0].passed) << report.results[0].errors.front();
  EXPECT_TRUE(report.results[1].passed) << report.results[1].errors.front();
  EXPECT_TRUE(report.results[3].passed) << report.results[3].errors.front();
  const auto& errors = report.results[2].errors;
  ASSERT_EQ(errors.size(), 3U);
  EXPECT_EQ(errors[0].rfind("expected exit code 0, found 3", 0), 0U);
  EXPECT_NE(errors[1].find("expected stdout to match \"wanted\", found \"some output\\n\""),
            std::string::npos);
  EXPECT_NE(errors[2].find("expected stderr not to match \"error\""), std::string::npos);
  // A fresh container for every test.
  EXPECT_GE(executor.resets, 4);
  EXPECT_EQ(executor.calls.front().argv, (std::vector<std::string>{"touch", "/marker"}));
  EXPECT_EQ(report.results[0].name, "Command Test: setup persists");
}

TEST_F(StructureTest, ReportsInThreeFormats) {
  TestReport report = run(R"(schemaVersion: 2.0.0
fileExistenceTests:
  - {name: ok, path: /etc/passwd}
  - {name: "bad <one>", path: /nope}
)");
  std::string text = report_text(report);
  EXPECT_NE(text.find("=== RUN: File Existence Test: ok\n--- PASS"), std::string::npos);
  EXPECT_NE(text.find("Error: expected /nope to exist, found nothing"), std::string::npos);
  EXPECT_NE(text.find("Passes:      1\nFailures:    1"), std::string::npos);

  auto json = nlohmann::json::parse(report_json(report));
  EXPECT_EQ(json["Pass"], 1);
  EXPECT_EQ(json["Fail"], 1);
  EXPECT_EQ(json["Total"], 2);
  EXPECT_EQ(json["Results"][1]["Errors"][0], "expected /nope to exist, found nothing");

  std::string junit = report_junit(report);
  EXPECT_NE(junit.find("<testsuites failures=\"1\" tests=\"2\""), std::string::npos);
  EXPECT_NE(junit.find("name=\"File Existence Test: bad &lt;one&gt;\""), std::string::npos);
  EXPECT_NE(junit.find("<failure message=\"expected /nope to exist, found nothing\">"),
            std::string::npos);
  auto parsed = util::run_command(
      {{"python3", "-c",
        "import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.read())"},
       junit});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->exit_code, 0) << parsed->stderr_data;
}

// Real containers: the host's static busybox in an image, run through runc.
TEST(BundleExecutorTest, CapturesStdoutStderrAndExitStatusThroughRunc) {
  if (::geteuid() != 0 || runtime::find_oci_runtime().empty() || !fs::exists("/bin/busybox")) {
    GTEST_SKIP() << "needs root, runc and /bin/busybox";
  }
  auto busybox = util::read_file("/bin/busybox");
  ASSERT_TRUE(busybox.ok());
  auto dir_guard = util::TempDir::create();
  ASSERT_TRUE(dir_guard.ok());
  std::vector<Entry> layer = base_layer();
  layer.push_back(dir("bin"));
  layer.push_back(file("bin/busybox", *busybox, 0755));
  fs::path blob = dir_guard->path() / "busybox.tar.gz";
  write_layer(blob, layer);
  oci::ImageConfig config = base_config();
  config.entrypoint = std::vector<std::string>{"/bin/busybox"};
  BundleExecutor executor({blob}, config);
  auto result =
      executor.exec({{"/bin/busybox", "sh", "-c", "echo out; echo err >&2; exit 3"}, {"X=1"}, ""});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(result->stdout_data, "out\n");
  EXPECT_EQ(result->stderr_data, "err\n");

  // Setup changes persist until reset().
  ASSERT_TRUE(executor.exec({{"/bin/busybox", "touch", "/tmp/mark"}, {}, "0"}).ok());
  auto seen = executor.exec({{"/bin/busybox", "ls", "/tmp"}, {}, ""});
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->stdout_data, "mark\n");
  ASSERT_TRUE(executor.reset().ok());
  auto fresh = executor.exec({{"/bin/busybox", "id", "-u"}, {}, ""});
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->stdout_data, "65532\n");
}

}  // namespace
}  // namespace distill::check
