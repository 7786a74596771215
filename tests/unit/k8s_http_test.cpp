#include "k8s_http.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "k8s_fakes.h"

namespace kcm {
namespace {

using Header = std::pair<std::string, std::string>;
using testing::HasSubstr;
using testing::StartsWith;

TEST(TrimSpaceTest, TrimsSpacesTabsAndLineEnds) {
  EXPECT_EQ(trim_space("\t token-1 \r\n"), "token-1");
  EXPECT_EQ(trim_space("a b"), "a b");
  EXPECT_EQ(trim_space(" \r\n\t"), "");
  EXPECT_EQ(trim_space(""), "");
}

TEST(HeaderLineTest, LowerCasesTheNameAndTrimsTheValue) {
  EXPECT_EQ(parse_header_line("Retry-After: 1\r\n"), Header("retry-after", "1"));
  EXPECT_EQ(parse_header_line("content-type:application/json\r\n"),
            Header("content-type", "application/json"));
  EXPECT_EQ(parse_header_line("X-Empty:\r\n"), Header("x-empty", ""));
  // Only the first colon separates: values may hold more.
  EXPECT_EQ(parse_header_line("Date: Wed, 21 Oct 2015 07:28:00 GMT\r\n"),
            Header("date", "Wed, 21 Oct 2015 07:28:00 GMT"));
}

TEST(HeaderLineTest, SkipsWhatIsNoHeader) {
  EXPECT_EQ(parse_header_line("HTTP/1.1 429 Too Many Requests\r\n"), std::nullopt);
  EXPECT_EQ(parse_header_line("HTTP/2 200\r\n"), std::nullopt);
  EXPECT_EQ(parse_header_line("\r\n"), std::nullopt);
  EXPECT_EQ(parse_header_line("no colon\r\n"), std::nullopt);
  EXPECT_EQ(parse_header_line(": no name\r\n"), std::nullopt);
}

TEST(HttpResponseTest, HeaderFindsTheFirstOfItsName) {
  HttpResponse response{200, {{"retry-after", "1"}, {"x", "a"}, {"x", "b"}}, ""};
  EXPECT_EQ(response.header("retry-after"), "1");
  EXPECT_EQ(response.header("x"), "a");
  EXPECT_EQ(response.header("absent"), std::nullopt);
}

TEST(FakeClockTest, SleepsAdvanceTimeAndAreRecorded) {
  testing_support::FakeClock clock;
  Clock::TimePoint start = clock.now();
  clock.sleep_for(std::chrono::milliseconds(250));
  clock.advance(std::chrono::seconds(1));
  EXPECT_EQ(clock.now() - start, std::chrono::milliseconds(1250));
  EXPECT_EQ(clock.sleeps, std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(250)});
}

TEST(SteadyClockTest, SleepsForReal) {
  Clock& clock = steady_clock();
  Clock::TimePoint start = clock.now();
  clock.sleep_for(std::chrono::milliseconds(5));
  EXPECT_GE(clock.now() - start, std::chrono::milliseconds(5));
}

// A TCP port on the loopback that is bound but not listening: connecting to it is
// refused at once, without any network.
class RefusingPort {
 public:
  RefusingPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot bind a loopback port");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

TEST(CurlTransportTest, ARefusedConnectionIsATransientErrorNamingTheRequest) {
  RefusingPort port;
  CurlTransport transport("https://127.0.0.1:" + std::to_string(port.port()), "missing-ca.crt");
  try {
    transport.send({"GET", "/version", {{"Accept", "application/json"}}, ""});
    ADD_FAILURE() << "no error";
  } catch (const TransportError& e) {
    EXPECT_THAT(e.what(), StartsWith("GET /version: "));
    EXPECT_TRUE(e.transient()) << e.what();
  }
}

TEST(CurlTransportTest, OnlyHttpsIsSpokenAndThatIsFinal) {
  CurlTransport transport("http://127.0.0.1:1", "missing-ca.crt");
  try {
    transport.send({"GET", "/version", {}, ""});
    ADD_FAILURE() << "no error";
  } catch (const TransportError& e) {
    EXPECT_THAT(e.what(), StartsWith("GET /version: "));
    EXPECT_THAT(e.what(), HasSubstr("http"));
    EXPECT_FALSE(e.transient()) << e.what();
  }
}

}  // namespace
}  // namespace kcm
