// dpkg version comparison tests, including a randomized comparison against
// `dpkg --compare-versions` (the oracle).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "debian/version.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

namespace distill::debian {
namespace {

int sign(int v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); }

TEST(Version, HandWrittenOrdering) {
  struct Case {
    const char* a;
    const char* b;
    int expected;
  };
  const Case cases[] = {
      {"1.0", "1.0", 0},
      {"1.0", "1.1", -1},
      {"1.10", "1.9", 1},
      {"1.0~rc1", "1.0", -1},
      {"1.0~", "1.0~~", 1},
      {"1.0~~a", "1.0~~", 1},
      {"1.0", "1.0a", -1},
      {"1.0a", "1.0+", -1},
      {"1.0+", "1.0.", -1},
      {"1:0.1", "2.0", 1},
      {"0:1.0", "1.0", 0},
      {"1.0-1", "1.0-2", -1},
      {"1.0-1", "1.0", 1},
      {"1.0-0", "1.0", 0},
      {"001.0", "1.0", 0},
      {"1.0-1~bpo1", "1.0-1", -1},
      {"2.36-9+deb12u7", "2.36-9+deb12u10", -1},
      {"3.0.11-1~deb12u2", "3.0.11-1", -1},
      {"1.2.3-4-5", "1.2.3-4", 1},  // revision is after the last '-'
      {"10:1", "9:2", 1},
      {"a", "b", -1},
      {"1~", "1", -1},
      {"", "0", 0},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(sign(compare_versions(c.a, c.b)), c.expected) << c.a << " vs " << c.b;
    EXPECT_EQ(sign(compare_versions(c.b, c.a)), -c.expected) << c.b << " vs " << c.a;
  }
}

TEST(Version, Validity) {
  EXPECT_TRUE(is_valid_version("1.0"));
  EXPECT_TRUE(is_valid_version("1:2.36-9+deb12u7"));
  EXPECT_TRUE(is_valid_version("1.0~rc1-1~bpo12+1"));
  EXPECT_TRUE(is_valid_version("1.2-3-4"));
  EXPECT_FALSE(is_valid_version(""));
  EXPECT_FALSE(is_valid_version("a1.0"));
  EXPECT_FALSE(is_valid_version("x:1.0"));
  EXPECT_FALSE(is_valid_version(":1.0"));
  EXPECT_FALSE(is_valid_version("1.0-"));
  EXPECT_FALSE(is_valid_version("1.0 2"));
  EXPECT_FALSE(is_valid_version("1.0-a_b"));
}

std::string random_part(std::mt19937& rng, bool upstream) {
  static const std::string k_chars = "0123456789abcxyzAZ.+~";
  std::uniform_int_distribution<int> len(0, 6);
  std::uniform_int_distribution<size_t> pick(0, k_chars.size() - 1);
  std::uniform_int_distribution<int> digit(0, 12);
  std::string out;
  if (upstream) {
    out += static_cast<char>('0' + digit(rng) % 10);
  }
  int n = len(rng);
  for (int i = 0; i < n; ++i) {
    // Bias toward digits and '~' where the interesting cases are.
    int roll = digit(rng);
    if (roll < 5) {
      out += static_cast<char>('0' + roll);
    } else if (roll == 5) {
      out += '~';
    } else {
      out += k_chars[pick(rng)];
    }
  }
  if (!upstream && out.empty()) {
    out = "1";
  }
  return out;
}

std::string random_version(std::mt19937& rng) {
  std::uniform_int_distribution<int> coin(0, 3);
  std::string v;
  if (coin(rng) == 0) {
    v += std::to_string(coin(rng)) + ":";
  }
  v += random_part(rng, true);
  if (coin(rng) != 0) {
    if (coin(rng) == 0) {
      v += "-" + random_part(rng, false);  // a '-' inside upstream
    }
    v += "-" + random_part(rng, false);
  }
  return v;
}

// Sorts random versions with our comparison, then has dpkg confirm every adjacent
// pair ("lt" or "eq"): by transitivity dpkg then agrees with our order on all
// ~500k pairs, for one dpkg call per version (dpkg costs a few ms per call).
TEST(Version, AgreesWithDpkgOnRandomVersions) {
  if (util::find_program("dpkg").empty()) {
    GTEST_SKIP() << "dpkg not installed";
  }
  std::mt19937 rng(12345);
  std::vector<std::string> versions;
  for (int i = 0; i < 1000; ++i) {
    std::string v = random_version(rng);
    versions.push_back(v);
    if (i % 10 == 0) {
      versions.push_back(v + "~");  // a near neighbour
    }
    if (i % 25 == 0) {
      versions.push_back("0" + v);  // equal to v
    }
  }
  std::stable_sort(
      versions.begin(), versions.end(),
      [](const std::string& a, const std::string& b) { return compare_versions(a, b) < 0; });
  std::string input;
  std::vector<const char*> ops;
  for (size_t i = 0; i + 1 < versions.size(); ++i) {
    ASSERT_TRUE(is_valid_version(versions[i])) << versions[i];
    const char* op = compare_versions(versions[i], versions[i + 1]) < 0 ? "lt" : "eq";
    ops.push_back(op);
    input += versions[i] + " " + op + " " + versions[i + 1] + "\n";
  }
  util::Command command;
  command.argv = {"bash", "-c",
                  "while read -r a op b; do "
                  "if dpkg --compare-versions \"$a\" \"$op\" \"$b\"; then echo y; else echo n; fi; "
                  "done"};
  command.stdin_data = input;
  auto result = util::run_command(command);
  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_EQ(result->exit_code, 0) << result->stderr_data;
  const std::string& out = result->stdout_data;
  ASSERT_EQ(out.size(), ops.size() * 2);
  int mismatches = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (out[i * 2] != 'y' && ++mismatches < 10) {
      ADD_FAILURE() << "dpkg disagrees: " << versions[i] << " " << ops[i] << " " << versions[i + 1];
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace distill::debian
