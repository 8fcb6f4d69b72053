// A small C++ program for the demo image: it runs on the distroless `cc`
// flavor (libstdc++ and libc from Debian, nothing else) and shows what the
// container looks like from inside.
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  utsname name{};
  uname(&name);
  std::cout << "hello from a distroless image\n";
  std::cout << "  uid=" << getuid() << " gid=" << getgid() << " kernel=" << name.release << "\n";
  std::ifstream os_release("/etc/os-release");
  for (std::string line; std::getline(os_release, line);) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::cout << "  " << line << "\n";
    }
  }
  for (const char* path : {"/bin/sh", "/bin/bash", "/usr/bin/dpkg", "/usr/bin/apt"}) {
    std::cout << "  " << path << (std::filesystem::exists(path) ? " present" : " absent") << "\n";
  }
  if (!args.empty()) {
    std::cout << "  args:";
    for (const auto& a : args) {
      std::cout << " " << a;
    }
    std::cout << "\n";
  }
  return 0;
}
