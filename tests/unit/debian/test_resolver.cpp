// Dependency resolver tests (resolver.hpp) on small in-code package indexes.
#include <gtest/gtest.h>

#include <tuple>

#include "debian/resolver.hpp"

namespace distill::debian {
namespace {

struct Pkg {
  std::string name;
  std::string version;
  std::string depends;
  std::string provides;
  std::string arch = "amd64";
  std::string pre_depends;
  std::string suite = "bookworm";
};

std::vector<RelationGroup> rel(const std::string& text) {
  auto parsed = parse_relations(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.ok() ? *parsed : std::vector<RelationGroup>{};
}

PackageIndex make_index(const std::vector<Pkg>& pkgs) {
  std::vector<PackageRecord> records;
  for (const Pkg& p : pkgs) {
    PackageRecord r;
    r.name = p.name;
    r.version = p.version;
    r.arch = p.arch;
    r.depends = rel(p.depends);
    r.pre_depends = rel(p.pre_depends);
    for (const RelationGroup& g : rel(p.provides)) {
      r.provides.push_back(g.alternatives.front());
    }
    r.filename = "pool/" + p.name + "_" + p.version + ".deb";
    r.repo_url = "http://repo.invalid/debian";
    r.suite = p.suite;
    records.push_back(std::move(r));
  }
  PackageIndex index;
  index.add(std::move(records));
  return index;
}

// "name=version" of each resolved package, in output order.
std::vector<std::string> names(const Result<std::vector<const PackageRecord*>>& result) {
  std::vector<std::string> out;
  if (result.ok()) {
    for (const PackageRecord* r : *result) {
      out.push_back(r->name + "=" + r->version);
    }
  }
  return out;
}

ResolveRequest request(std::vector<std::string> packages) {
  ResolveRequest req;
  req.packages = std::move(packages);
  req.arch = "amd64";
  return req;
}

using Names = std::vector<std::string>;

TEST(Resolver, ClosureOverDependsAndPreDependsSortedByName) {
  auto index = make_index({
      {"zapp", "1", "libfoo (>= 1), libc6"},
      {"libfoo", "1.2", "libc6 (>= 2.36)", "", "amd64", "libzz"},
      {"libc6", "2.36-9", "libgcc-s1"},
      {"libgcc-s1", "12.2"},
      {"libzz", "1"},
      {"unrelated", "1"},
  });
  auto result = resolve(index, request({"zapp"}));
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(names(result),
            (Names{"libc6=2.36-9", "libfoo=1.2", "libgcc-s1=12.2", "libzz=1", "zapp=1"}));
}

TEST(Resolver, FirstSatisfiableAlternative) {
  auto index = make_index({
      {"app", "1", "missing | second | third"},
      {"second", "1"},
      {"third", "1"},
  });
  EXPECT_EQ(names(resolve(index, request({"app"}))), (Names{"app=1", "second=1"}));
}

TEST(Resolver, AlreadySelectedAlternativeWins) {
  // The alternative group is decided after plain dependencies pulled in `b`.
  auto index = make_index({
      {"app", "1", "a | b, other"},
      {"other", "1", "b"},
      {"a", "1"},
      {"b", "1"},
  });
  EXPECT_EQ(names(resolve(index, request({"app"}))), (Names{"app=1", "b=1", "other=1"}));
}

TEST(Resolver, InstalledAlternativeWinsAndInstalledAreNotReinstalled) {
  auto index = make_index({
      {"app", "1", "a | b, libc6 (>= 2.36)"},
      {"a", "1"},
      {"b", "1"},
      {"libc6", "2.36-9"},
  });
  ResolveRequest req = request({"app"});
  req.installed = {{"b", "1"}, {"libc6", "2.36-9"}};
  EXPECT_EQ(names(resolve(index, req)), (Names{"app=1"}));
}

TEST(Resolver, ProvidesOfInstalledPackagesCount) {
  auto index = make_index({
      {"app", "1", "awk"},
      {"mawk", "1.3", "", "awk"},
      {"gawk", "5.2", "", "awk"},
  });
  ResolveRequest req = request({"app"});
  req.installed = {{"mawk", "1.3"}};
  EXPECT_EQ(names(resolve(index, req)), (Names{"app=1"}));
}

TEST(Resolver, InstalledTooOldIsReported) {
  auto index = make_index({{"app", "1", "libc6 (>= 2.37)"}, {"libc6", "2.37-1"}});
  ResolveRequest req = request({"app"});
  req.installed = {{"libc6", "2.36-9"}};
  auto result = resolve(index, req);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("the base image has libc6 2.36-9"), std::string::npos)
      << result.error().message;
}

TEST(Resolver, VirtualPackagesThroughProvides) {
  auto index = make_index({
      {"app", "1", "awk, libvirt-api (>= 2), real-or-virtual"},
      {"mawk", "1.3", "", "awk"},
      {"gawk", "5.2", "", "awk"},
      {"impl", "3", "", "libvirt-api (= 2.5)"},
      {"real-or-virtual", "1"},
      {"fake-real", "9", "", "real-or-virtual"},
  });
  // Providers are chosen by name; a real package beats a provider.
  EXPECT_EQ(names(resolve(index, request({"app"}))),
            (Names{"app=1", "gawk=5.2", "impl=3", "real-or-virtual=1"}));
}

TEST(Resolver, UnversionedProvideNeverSatisfiesVersionedDependency) {
  auto index = make_index({
      {"app", "1", "libapi (>= 1)"},
      {"impl", "1", "", "libapi"},
  });
  auto result = resolve(index, request({"app"}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ErrorKind::InvalidInput);
  EXPECT_NE(result.error().message.find("virtual package"), std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().message.find("impl"), std::string::npos);
}

TEST(Resolver, ExcludedPackagesAreNeverInstalledAndSatisfyDependencies) {
  auto index = make_index({
      {"app", "1", "debconf (>= 0.5) | debconf-2.0, perl-base"},
      {"debconf", "1.5"},
      {"perl-base", "5.36", "libc6"},
      {"libc6", "2.36"},
  });
  ResolveRequest req = request({"app"});
  req.exclude = {"debconf", "perl-base"};
  EXPECT_EQ(names(resolve(index, req)), (Names{"app=1"}));

  req.packages = {"perl-base"};
  auto both = resolve(index, req);
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message.find("both requested and excluded"), std::string::npos);
}

TEST(Resolver, ArchitectureAllAndQualifiers) {
  auto index = make_index({
      {"app", "1", "data, python3:any, tool:amd64"},
      {"data", "1", "", "", "all"},
      {"python3", "3.11", "", "", "amd64"},
      {"tool", "2", "", "", "amd64"},
      {"tool", "3", "", "", "arm64"},
      {"armonly", "1", "", "", "arm64"},
      {"needs-arm", "1", "tool:arm64"},
  });
  EXPECT_EQ(names(resolve(index, request({"app"}))),
            (Names{"app=1", "data=1", "python3=3.11", "tool=2"}));

  EXPECT_EQ(names(resolve(index, request({"tool:amd64=2"}))), (Names{"tool=2"}));
  auto arm_request = resolve(index, request({"tool:arm64"}));
  ASSERT_FALSE(arm_request.ok());
  EXPECT_NE(arm_request.error().message.find("arm64 is not installable"), std::string::npos)
      << arm_request.error().message;

  auto wrong_arch = resolve(index, request({"armonly"}));
  ASSERT_FALSE(wrong_arch.ok());
  EXPECT_NE(wrong_arch.error().message.find("not available for amd64"), std::string::npos)
      << wrong_arch.error().message;

  auto qualified = resolve(index, request({"needs-arm"}));
  ASSERT_FALSE(qualified.ok());
  EXPECT_NE(qualified.error().message.find("arm64 is not installable"), std::string::npos)
      << qualified.error().message;
}

TEST(Resolver, HighestVersionAcrossSuitesWins) {
  auto index = make_index({
      {"app", "1", "libssl3"},
      {"libssl3", "3.0.11-1~deb12u2", "", "", "amd64", "", "bookworm"},
      {"libssl3", "3.0.15-1~deb12u1", "", "", "amd64", "", "bookworm-security"},
      {"libssl3", "3.0.13-1~deb12u1", "", "", "amd64", "", "bookworm-updates"},
      {"old", "1", "libssl3 (<< 3.0.12)"},
  });
  auto result = resolve(index, request({"app"}));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(names(result), (Names{"app=1", "libssl3=3.0.15-1~deb12u1"}));
  EXPECT_EQ((*result)[1]->suite, "bookworm-security");
  EXPECT_EQ(names(resolve(index, request({"old"}))), (Names{"libssl3=3.0.11-1~deb12u2", "old=1"}));
  EXPECT_EQ(names(resolve(index, request({"libssl3=3.0.13-1~deb12u1"}))),
            (Names{"libssl3=3.0.13-1~deb12u1"}));
}

TEST(Resolver, UnsatisfiableDependencyPrintsTheChain) {
  auto index = make_index({
      {"myapp", "1", "foo"},
      {"foo", "1.0", "libbar (>= 2)"},
      {"libbar", "1.5"},
  });
  auto result = resolve(index, request({"myapp"}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ErrorKind::InvalidInput);
  EXPECT_EQ(result.error().message,
            "cannot install 'foo': foo 1.0 depends on 'libbar (>= 2)', libbar 1.5 is too old "
            "(required by: myapp -> foo)");
}

TEST(Resolver, MissingDependencyAndAlternativesExplained) {
  auto index = make_index({{"app", "1", "nothere | libbar (<< 1)"}, {"libbar", "1.5"}});
  auto result = resolve(index, request({"app"}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(
      result.error().message,
      "cannot install 'app': app 1 depends on 'nothere | libbar (<< 1)', no package 'nothere' "
      "is available; libbar 1.5 is too new (requested)");
}

TEST(Resolver, ConflictingVersionRequirementsAreReported) {
  auto index = make_index({
      {"app", "1", "a, b"},
      {"a", "1", "libz (= 1)"},
      {"b", "1", "libz (= 2)"},
      {"libz", "1"},
      {"libz", "2"},
  });
  auto result = resolve(index, request({"app"}));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(
      result.error().message.find("libz 1 is already selected (required by: app -> a -> libz)"),
      std::string::npos)
      << result.error().message;
}

TEST(Resolver, RequestedPackageNotFoundNamesSources) {
  auto index = make_index({{"app", "1"}});
  auto result = resolve(index, request({"nosuch"}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message,
            "package 'nosuch' not found in http://repo.invalid/debian bookworm");
  // A name one edit from a package's is suggested.
  auto typo = resolve(index, request({"apq"}));
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.error().message,
            "package 'apq' not found in http://repo.invalid/debian bookworm (did you mean 'app'?)");
  auto version = resolve(index, request({"app=2"}));
  ASSERT_FALSE(version.ok());
  EXPECT_NE(version.error().message.find("available: 1"), std::string::npos)
      << version.error().message;
}

TEST(Resolver, DependencyCyclesTerminate) {
  auto index = make_index({{"a", "1", "b"}, {"b", "1", "a"}});
  EXPECT_EQ(names(resolve(index, request({"a", "b", "a"}))), (Names{"a=1", "b=1"}));
}

TEST(Resolver, OutputIsDeterministic) {
  auto index = make_index({
      {"app", "1", "x | y, awk"},
      {"y", "1"},
      {"x", "1"},
      {"mawk", "1", "", "awk"},
      {"gawk", "1", "", "awk"},
  });
  auto first = names(resolve(index, request({"app"})));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(names(resolve(index, request({"app"}))), first);
  }
  EXPECT_EQ(first, (Names{"app=1", "gawk=1", "x=1"}));
}

// Issue 11, item 12: a set Debian would refuse to co-install is refused,
// naming both packages.
PackageIndex index_with_conflicts(const std::string& field, const std::string& value) {
  std::vector<PackageRecord> records;
  for (const auto& [name, version, depends, provides] :
       std::vector<std::tuple<std::string, std::string, std::string, std::string>>{
           {"app", "1", "liba, libb", ""},
           {"liba", "1", "", ""},
           {"libb", "2", "", "virt (= 3)"}}) {
    PackageRecord r;
    r.name = name;
    r.version = version;
    r.arch = "amd64";
    r.depends = rel(depends);
    for (const RelationGroup& g : rel(provides)) {
      r.provides.push_back(g.alternatives.front());
    }
    if (name == "liba") {
      for (const RelationGroup& g : rel(value)) {
        (field == "Conflicts" ? r.conflicts : r.breaks).push_back(g.alternatives.front());
      }
    }
    r.filename = "pool/" + name + ".deb";
    records.push_back(std::move(r));
  }
  PackageIndex out;
  out.add(std::move(records));
  return out;
}

TEST(ResolverConflicts, ConflictsAndBreaksAreRefusedNamingBoth) {
  for (const char* field : {"Conflicts", "Breaks"}) {
    for (const char* value : {"libb", "libb (>= 2)", "virt", "virt (>> 2)"}) {
      PackageIndex index = index_with_conflicts(field, value);
      auto result = resolve(index, request({"app"}));
      ASSERT_FALSE(result.ok()) << field << ": " << value;
      EXPECT_EQ(result.error().kind, ErrorKind::InvalidInput);
      EXPECT_NE(result.error().message.find("packages liba 1 and libb 2 cannot be installed "
                                            "together (liba " +
                                            std::string(field) + ": "),
                std::string::npos)
          << result.error().message;
    }
  }
}

TEST(ResolverConflicts, RelationsThatDoNotHitPass) {
  // Another version, a provided version outside the range, an absent name,
  // and the package itself.
  for (const char* value : {"libb (<< 2)", "virt (<< 3)", "other", "liba"}) {
    PackageIndex index = index_with_conflicts("Conflicts", value);
    auto result = resolve(index, request({"app"}));
    EXPECT_TRUE(result.ok()) << value << ": " << result.error().message;
  }
}

TEST(ResolverConflicts, BaseImagePackagesCount) {
  PackageIndex index = index_with_conflicts("Breaks", "base-thing (<< 5)");
  ResolveRequest req = request({"app"});
  req.installed = {{"base-thing", "4"}};
  auto result = resolve(index, req);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("package liba 1 cannot be installed over base-thing 4"),
            std::string::npos)
      << result.error().message;
  req.installed = {{"base-thing", "5"}};
  EXPECT_TRUE(resolve(index, req).ok());
}

}  // namespace
}  // namespace distill::debian
