// Test helper: tiny OCI images built in the test. Layers are written with the
// project's TarWriter and gzip compressor, the layout with oci::write_oci_layout.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "archive/byte_sink.hpp"
#include "archive/compressor.hpp"
#include "archive/tar_writer.hpp"
#include "oci/image.hpp"
#include "oci/layout_writer.hpp"
#include "oci/media_types.hpp"
#include "util/atomic_file.hpp"

// GCC 12 reports a false -Wmaybe-uninitialized on TarEntry's uid/gid pair here.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace distill::check::testing {

struct Entry {
  std::string path;
  archive::EntryType type = archive::EntryType::File;
  std::string content;
  uint32_t mode = 0644;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string target;  // symlink / hard link
};

inline Entry file(std::string path, std::string content, uint32_t mode = 0644) {
  return Entry{std::move(path), archive::EntryType::File, std::move(content), mode};
}
inline Entry dir(std::string path, uint32_t mode = 0755, uint32_t uid = 0, uint32_t gid = 0) {
  return Entry{std::move(path), archive::EntryType::Directory, "", mode, uid, gid};
}
inline Entry symlink(std::string path, std::string target) {
  return Entry{std::move(path), archive::EntryType::Symlink, "", 0777, 0, 0, std::move(target)};
}
inline Entry hardlink(std::string path, std::string target) {
  return Entry{std::move(path), archive::EntryType::Hardlink, "", 0644, 0, 0, std::move(target)};
}

inline oci::LayerBlob write_layer(const std::filesystem::path& file,
                                  const std::vector<Entry>& entries) {
  oci::LayerBlob layer;
  layer.file = file;
  auto out = util::AtomicFile::create(layer.file);
  EXPECT_TRUE(out.ok());
  archive::FileSink file_sink(*out);
  archive::HashingSink compressed(&file_sink);
  auto gzip = archive::make_compressor(archive::Compression::Gzip, compressed, 1);
  archive::HashingSink uncompressed(gzip.get());
  archive::TarWriter tar(uncompressed);
  for (const auto& e : entries) {
    archive::TarEntry entry;
    entry.path = e.path;
    entry.type = e.type;
    entry.mode = e.mode;
    entry.uid = e.uid;
    entry.gid = e.gid;
    entry.link_target = e.target;
    Status added = tar.add(entry, std::string_view(e.content));
    EXPECT_TRUE(added.ok()) << e.path << ": " << (added.ok() ? "" : added.error().message);
  }
  EXPECT_TRUE(tar.finish().ok());
  EXPECT_TRUE(out->commit().ok());
  layer.descriptor.media_type = std::string(oci::k_media_oci_layer_gzip);
  layer.descriptor.digest = compressed.digest();
  layer.descriptor.size = compressed.size();
  layer.diff_id = uncompressed.digest();
  layer.uncompressed_size = uncompressed.size();
  return layer;
}

struct ImageSpec {
  std::vector<std::vector<Entry>> layers;
  std::vector<std::string> created_by;  // one per layer ("" = "test layer N")
  oci::ImageConfig config;
  std::string arch = "amd64";
  // Changes the manifest before it is finalized (a config that lies, say).
  std::function<void(oci::ImageManifest&)> tamper;
};

// Writes the image into the OCI layout `dir` under ref `latest`; returns
// "oci:DIR:latest".
inline std::string write_image(const std::filesystem::path& dir, ImageSpec spec) {
  std::filesystem::create_directories(dir / "layers");
  oci::Image image;
  oci::ImageManifest manifest;
  manifest.platform = oci::platform_for_debian_arch(spec.arch);
  manifest.config = spec.config;
  if (manifest.config.created.empty()) {
    manifest.config.created = oci::format_rfc3339(0);
  }
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    manifest.layers.push_back(
        write_layer(dir / "layers" / ("layer" + std::to_string(i) + ".tar.gz"), spec.layers[i]));
    std::string created_by = i < spec.created_by.size() && !spec.created_by[i].empty()
                                 ? spec.created_by[i]
                                 : "test layer " + std::to_string(i);
    manifest.config.history.push_back({manifest.config.created, created_by, "", false});
  }
  if (spec.tamper) {
    spec.tamper(manifest);
  }
  image.manifests.push_back(std::move(manifest));
  EXPECT_TRUE(oci::finalize(image).ok());
  Status written = oci::write_oci_layout(dir / "oci", image, "latest");
  EXPECT_TRUE(written.ok()) << (written.ok() ? "" : written.error().message);
  return "oci:" + (dir / "oci").string() + ":latest";
}

// A distroless-like base: accounts, /tmp, os-release, a status.d entry with a
// machine-readable copyright file.
inline std::vector<Entry> base_layer() {
  return {
      dir("etc"),
      file("etc/passwd",
           "root:x:0:0:root:/root:/sbin/nologin\n"
           "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
           "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"),
      file("etc/group", "root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n"),
      symlink("etc/os-release", "../usr/lib/os-release"),
      dir("home"),
      dir("home/nonroot", 0700, 65532, 65532),
      dir("root", 0700),
      dir("tmp", 01777),
      dir("usr"),
      dir("usr/lib"),
      file("usr/lib/os-release",
           "PRETTY_NAME=\"Distill\"\nNAME=\"Debian GNU/Linux\"\nID=\"debian\"\nVERSION_ID=\"12\"\n"
           "VERSION=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_CODENAME=bookworm\n"),
      dir("usr/share"),
      dir("usr/share/doc"),
      dir("usr/share/doc/libfoo1"),
      file("usr/share/doc/libfoo1/copyright",
           "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
           "Upstream-Name: foo\n\n"
           "Files: *\nCopyright: 2020 Foo\nLicense: LGPL-2.1+\n\n"
           "Files: debian/*\nCopyright: 2021 Bar\nLicense: GPL-2+\n\n"
           "License: LGPL-2.1+\n This is the LGPL.\n\n"
           "License: GPL-2+\n This is the GPL.\n"),
      dir("usr/share/doc/libbar+plus"),
      file("usr/share/doc/libbar+plus/copyright", "This is not machine-readable.\n"),
      dir("var"),
      dir("var/lib"),
      dir("var/lib/dpkg"),
      dir("var/lib/dpkg/status.d"),
      file("var/lib/dpkg/status.d/libfoo1",
           "Package: libfoo1\nVersion: 1:2.3-4+deb12u1\nArchitecture: amd64\n"
           "Maintainer: Foo Team <foo@example.org>\nSource: foo (2.3-4)\n"
           "Description: foo library\n"),
      file("var/lib/dpkg/status.d/libfoo1.md5sums", "d41d8cd98f00b204e9800998ecf8427e  x\n"),
      file("var/lib/dpkg/status.d/libbar+plus",
           "Package: libbar+plus\nVersion: 0.9\nArchitecture: all\n"
           "Maintainer: Bar <bar@example.org>\nDescription: bar\n"),
  };
}

inline oci::ImageConfig base_config() {
  oci::ImageConfig config;
  config.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"};
  config.user = "65532";
  config.working_dir = "/home/nonroot";
  return config;
}

}  // namespace distill::check::testing
