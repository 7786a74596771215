#include "k8s_http.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <thread>

namespace kcm {

namespace {

constexpr long kConnectTimeoutMs = 10'000;
constexpr long kRequestTimeoutMs = 60'000;
constexpr std::size_t kMaxBodyBytes = 16 << 20;
// The protocol reads one header (Retry-After); past this, more are dropped rather than
// kept without limit.
constexpr std::size_t kMaxHeaderBytes = 64 << 10;

class SteadyClock final : public Clock {
 public:
  TimePoint now() override { return std::chrono::steady_clock::now(); }
  void sleep_for(std::chrono::milliseconds duration) override {
    std::this_thread::sleep_for(duration);
  }
};

// Transfer errors that sending again may cure; the others (a certificate that fails
// verification above all) would fail the same way every time.
bool is_transient(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:  // also a connection reset during the handshake
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// What libcurl's callbacks fill during one exchange.
struct Received {
  HttpResponse response;
  std::size_t header_bytes = 0;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  std::string& body = static_cast<Received*>(user)->response.body;
  if (body.size() + size * count > kMaxBodyBytes) return 0;  // aborts the transfer
  body.append(data, size * count);
  return size * count;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* received = static_cast<Received*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    // A status line starts the headers of another response (after a 1xx): only the
    // final response's count.
    received->response.headers.clear();
    received->header_bytes = 0;
  } else if (received->header_bytes + line.size() <= kMaxHeaderBytes) {
    if (auto header = parse_header_line(line)) {
      received->response.headers.push_back(*std::move(header));
      received->header_bytes += line.size();
    }
  }
  return size * count;
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return std::nullopt;
}

Clock& steady_clock() {
  static SteadyClock clock;
  return clock;
}

std::string_view trim_space(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  std::size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

std::optional<std::pair<std::string, std::string>> parse_header_line(std::string_view line) {
  if (line.starts_with("HTTP/")) return std::nullopt;
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::make_pair(std::move(name), std::string(trim_space(line.substr(colon + 1))));
}

struct CurlTransport::Curl {
  struct Deleter {
    void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  };
  std::unique_ptr<CURL, Deleter> handle;
  char errbuf[CURL_ERROR_SIZE] = "";  // libcurl writes here during curl_easy_perform
};

CurlTransport::CurlTransport(std::string server, std::string ca_path)
    : server_(std::move(server)), ca_path_(std::move(ca_path)), curl_(std::make_unique<Curl>()) {
  static const CURLcode kGlobalInit = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (kGlobalInit != CURLE_OK) {
    throw Error(std::string("initialise libcurl: ") + curl_easy_strerror(kGlobalInit));
  }
  curl_->handle.reset(curl_easy_init());
  if (!curl_->handle) throw Error("initialise libcurl: curl_easy_init failed");
}

CurlTransport::~CurlTransport() = default;

HttpResponse CurlTransport::send(const HttpRequest& request) {
  CURL* curl = curl_->handle.get();
  // Reset keeps the connection cache, so later exchanges reuse the connection.
  curl_easy_reset(curl);
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&](const std::string& line) {
    curl_slist* list = curl_slist_append(headers.get(), line.c_str());
    if (list == nullptr) throw Error("curl_slist_append: out of memory");
    static_cast<void>(headers.release());
    headers.reset(list);
  };
  for (const auto& [name, value] : request.headers) {
    std::string line = name;
    line.append(": ").append(value);
    add_header(line);
  }
  add_header("Expect:");  // no 100-continue round trip before a body

  Received received;
  curl_->errbuf[0] = '\0';
  std::string url = server_ + request.path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (!request.body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "kcm/" KCM_VERSION);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  // The cluster CA is the only trust root, and verification cannot be turned off.
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca_path_.c_str());
  curl_easy_setopt(curl, CURLOPT_CAPATH, nullptr);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, kRequestTimeoutMs);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_->errbuf);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &received);

  CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) {
    // The error buffer has the specifics ("SSL certificate problem: ..."), when any.
    std::string cause = curl_->errbuf[0] != '\0' ? curl_->errbuf : curl_easy_strerror(rc);
    spdlog::debug("{} {}: {}", request.method, request.path, cause);
    throw TransportError(request.method + " " + request.path + ": " + cause, is_transient(rc));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &received.response.status);
  spdlog::debug("{} {}: {}", request.method, request.path, received.response.status);
  return std::move(received.response);
}

}  // namespace kcm
