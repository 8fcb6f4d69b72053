// The Java trust store (/etc/ssl/certs/java/cacerts) that Debian's
// ca-certificates-java would generate, built deterministically from the PEM CA
// bundle without running Java.
//
// Output format: Sun JKS keystore, version 2 (OpenJDK
// sun.security.provider.JavaKeyStore, engineStore): big-endian
//   u32 magic 0xFEEDFEED, u32 version 2, u32 entry count,
//   per trusted-certificate entry: u32 tag 2, alias (u16 length + modified
//   UTF-8), u64 creation date in milliseconds, certificate type "X.509" (u16
//   length + modified UTF-8), u32 DER length, DER bytes;
//   then SHA-1(password as UTF-16BE || "Mighty Aphrodite" || all bytes above).
// Java 17 opens it with its default keystore type (keystore.type.compat=true
// auto-detects JKS), e.g. `keytool -list -keystore cacerts -storepass changeit`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace distill::image {

// Builds the JKS bytes from a concatenated PEM bundle (ca-certificates.crt).
//
// Entries keep bundle order. Aliases follow Debian's "debian:<file>.pem" shape:
// the file part is the subject CN (else OU, else O) lowercased, with ' ', '/',
// ',' turned into '_' and '(' ')' into '=' (as ca-certificates names its files);
// a subject with none of them gives "debian:<first 16 hex of SHA-256(DER)>.pem";
// repeated names get "_2", "_3", ... before ".pem".
// Every entry's date is creation_epoch_seconds * 1000 (use SOURCE_DATE_EPOCH).
//
// PEM blocks other than CERTIFICATE / TRUSTED CERTIFICATE are skipped. Errors:
// Corrupt naming the certificate's 1-based index when a block does not decode
// to an X.509 certificate (or its PEM armour is broken); InvalidInput when the
// bundle holds no certificate, the date is negative or too large, or the
// password is not valid UTF-8.
Result<std::string> make_java_truststore(std::string_view pem_bundle,
                                         int64_t creation_epoch_seconds,
                                         const std::string& password = "changeit");

}  // namespace distill::image
