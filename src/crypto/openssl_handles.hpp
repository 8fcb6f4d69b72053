// Owning handles for the OpenSSL objects the project uses outside this layer
// (PEM reading and X.509 parsing in the CA bundle and the Java trust store):
// std::unique_ptr with the matching free function.
#pragma once

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

namespace distill::crypto {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct OpensslFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};

using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using OpensslText = std::unique_ptr<char, OpensslFree>;            // OPENSSL_malloc'd text
using OpensslBytes = std::unique_ptr<unsigned char, OpensslFree>;  // OPENSSL_malloc'd bytes

}  // namespace distill::crypto
