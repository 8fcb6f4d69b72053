// Fetching the signed Release file of one dists/<suite> of an apt source, as apt's
// `update` does: InRelease verified with gpgv, else Release + Release.gpg, then the
// Valid-Until check (https://wiki.debian.org/DebianRepository/Format).
//
// Shared by the Packages loader (repository.cpp) and the Contents loader
// (contents_index.cpp), so both trust exactly the same metadata.
#pragma once

#include <string>

#include "debian/apt_sources.hpp"
#include "debian/release.hpp"
#include "debian/repository.hpp"
#include "net/http_client.hpp"
#include "util/result.hpp"

namespace distill::debian {

// "<url>/dists/<suite>/", always with the trailing '/'.
std::string suite_base_url(const AptSource& source, const std::string& suite);

// GETs `url`; any status but 200 is an error (NotFound for 404). `status` gets the
// HTTP status of the response (0 when none was obtained).
Result<std::string> http_get(net::HttpClient& client, const std::string& url, long& status);

// A Release whose Suite and Codename both differ from the suite it was served
// for (dists/bookworm holding trixie's) is Corrupt, as apt refuses it.
Status check_release_suite(const ReleaseFile& release, const std::string& suite,
                           const std::string& origin);

// Fetches <base>InRelease (or Release + Release.gpg when InRelease is 404/403/410),
// verifies the signature with the source's keyring, parses it, checks its
// suite, its Date against the clock and the newest seen (ReleaseHistory in
// options.release_history, recorded when newer) and, unless the options or the
// source say otherwise, Valid-Until. `base` is what suite_base_url() returns.
Result<ReleaseFile> fetch_verified_release(net::HttpClient& client, const AptSource& source,
                                           const std::string& base,
                                           const RepositoryOptions& options);

}  // namespace distill::debian
