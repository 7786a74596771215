// The two seams of the Kubernetes client (docs/kubernetes.md "HTTP"): the transport that
// carries one HTTP exchange, and the clock the protocol waits on. k8s_client.h's ApiClient
// (retries, the token, what statuses mean) takes both, so that its rules are unit tested
// with fakes, without a server and without sleeping.
//
// CurlTransport is the real transport: HTTPS through libcurl with the cluster CA as the
// only trust root, connect timeout 10 s, 60 s per exchange, bodies up to 16 MiB, no
// redirects, `User-Agent: kcm/<version>`. It sends once and never retries: a status
// that means "try again" is the protocol's to judge. Not thread-safe; one connection,
// reused by later exchanges.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "error.h"

namespace kcm {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;   // "GET", "PATCH", ...
  std::string path;     // below the server: "/api/v1/nodes/n1"
  HttpHeaders headers;  // Authorization, Accept, Content-Type: the protocol's choice
  std::string body;     // sent when not empty
};

struct HttpResponse {
  long status = 0;
  HttpHeaders headers;  // of the final response; names in lower case, values trimmed
  std::string body;

  // The value of the header named `lower_name`, if the response has it.
  std::optional<std::string> header(std::string_view lower_name) const;
};

// An exchange that got no HTTP response: `<method> <path>: <cause>`, e.g.
//   GET /version: SSL certificate problem: unable to get local issuer certificate
// transient() says whether sending again may succeed (a refused or reset connection, a
// timeout) or not (a certificate that fails verification, a malformed URL).
class TransportError : public Error {
 public:
  TransportError(const std::string& message, bool transient)
      : Error(message), transient_(transient) {}
  bool transient() const { return transient_; }

 private:
  bool transient_;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // One exchange, whatever the status of its response. Throws TransportError when there
  // is no response; any other Error for a failure of the transport itself.
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

// Time as the protocol sees it: its deadlines and its waits.
class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint now() = 0;
  virtual void sleep_for(std::chrono::milliseconds duration) = 0;
};

// std::chrono::steady_clock and std::this_thread::sleep_for; stateless, shared.
Clock& steady_clock();

class CurlTransport final : public HttpTransport {
 public:
  // `server`: "https://10.96.0.1:443" (k8s_config.h); `ca_path`: the cluster CA file.
  // Throws Error when libcurl cannot be initialised.
  CurlTransport(std::string server, std::string ca_path);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  HttpResponse send(const HttpRequest& request) override;

 private:
  struct Curl;
  std::string server_;
  std::string ca_path_;
  std::unique_ptr<Curl> curl_;
};

// ---- Pure parts, exposed for unit tests ----

// `s` without the spaces, tabs, CRs and LFs around it (header values, the
// service-account files).
std::string_view trim_space(std::string_view s);

// One header line as libcurl hands it over ("Retry-After: 1\r\n"): the name in lower case
// and the value trimmed; nullopt for a status line, the blank line, or a line without a
// colon.
std::optional<std::pair<std::string, std::string>> parse_header_line(std::string_view line);

}  // namespace kcm
