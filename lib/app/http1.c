/*
 * HTTP/1.1 request and response heads (RFC 9112), parsed from a peer's bytes
 * with every length bounded: see mpq/http1.h. Paths follow hq's rules
 * (mpq_hq_parse_path), so both protocols serve and refuse the same files.
 */
#include <string.h>
#include <strings.h>

#include "mpq/http1.h"

struct span {
	const char *p;
	size_t len;
};

/* The offset just past the empty line that ends the head, 0 when it is not
 * in |buf| yet. A line ends with "\n" or "\r\n". */
static size_t head_end(const char *buf, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		if (!nl)
			return 0;
		size_t next = (size_t)(nl - buf) + 1, l = next - 1 - pos;
		if (pos > 0 && (l == 0 || (l == 1 && buf[pos] == '\r')))
			return next;
		pos = next;
	}
	return 0;
}

/* The line at |*pos| (before |end|) without its line end; moves |*pos| past it. */
static struct span next_line(const char *buf, size_t end, size_t *pos)
{
	const char *nl = memchr(buf + *pos, '\n', end - *pos);
	size_t stop = nl ? (size_t)(nl - buf) : end;
	struct span s = {buf + *pos, stop - *pos};

	*pos = stop < end ? stop + 1 : end;
	if (s.len && s.p[s.len - 1] == '\r')
		s.len--;
	return s;
}

static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_tchar((unsigned char)p[i]))
			return false;
	return len > 0;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool span_is(struct span s, const char *word)
{
	return s.len == strlen(word) && strncasecmp(s.p, word, s.len) == 0;
}

/* "name: value" with the value's surrounding whitespace trimmed. False for a
 * folded line, a name that is not a token, a control character. */
static bool split_header(struct span line, struct span *name, struct span *value)
{
	const char *colon = memchr(line.p, ':', line.len);

	if (!colon || (line.len && is_ows(line.p[0])))
		return false;
	name->p = line.p;
	name->len = (size_t)(colon - line.p);
	if (!is_token(name->p, name->len))
		return false;
	value->p = colon + 1;
	value->len = line.len - name->len - 1;
	while (value->len && is_ows(value->p[0])) {
		value->p++;
		value->len--;
	}
	while (value->len && is_ows(value->p[value->len - 1]))
		value->len--;
	for (size_t i = 0; i < value->len; i++) {
		unsigned char c = (unsigned char)value->p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* Connection: a comma-separated list of options. */
static void connection_options(struct span v, bool *close, bool *keep)
{
	size_t i = 0;

	while (i < v.len) {
		struct span opt = {v.p + i, 0};
		while (i < v.len && v.p[i] != ',')
			i++;
		opt.len = (size_t)(v.p + i - opt.p);
		while (opt.len && is_ows(opt.p[0])) {
			opt.p++;
			opt.len--;
		}
		while (opt.len && is_ows(opt.p[opt.len - 1]))
			opt.len--;
		*close |= span_is(opt, "close");
		*keep |= span_is(opt, "keep-alive");
		i++;
	}
}

/* Content-Length: 1*DIGIT, at most 2^62 - 1. Returns false otherwise. */
static bool parse_length(struct span v, uint64_t *out)
{
	uint64_t n = 0;

	if (!v.len)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
		n = n * 10 + (uint64_t)(v.p[i] - '0');
		if (n >= 1ULL << 62)
			return false;
	}
	*out = n;
	return true;
}

/* What the headers of a head say, for both directions. */
struct headers {
	unsigned int hosts;
	bool close, keep;
	bool has_length, bad_length;
	uint64_t length;
	bool transfer_encoding;
};

/* Reads the header lines from |pos| to |end|. False on a malformed line. */
static bool read_headers(const char *buf, size_t end, size_t pos, struct headers *h)
{
	memset(h, 0, sizeof(*h));
	while (pos < end) {
		struct span line = next_line(buf, end, &pos), name, value;
		uint64_t n = 0;

		if (!line.len)
			break; /* the empty line: the head ends */
		if (!split_header(line, &name, &value))
			return false;
		if (span_is(name, "host")) {
			h->hosts++;
		} else if (span_is(name, "connection")) {
			connection_options(value, &h->close, &h->keep);
		} else if (span_is(name, "transfer-encoding")) {
			h->transfer_encoding = true;
		} else if (span_is(name, "content-length")) {
			if (!parse_length(value, &n) || (h->has_length && n != h->length))
				h->bad_length = true;
			h->has_length = true;
			h->length = n;
		}
	}
	return true;
}

/* "HTTP/1.0" or "HTTP/1.1": 0 or 1; another HTTP/d.d: 2; else -1. */
static int version_of(struct span v)
{
	if (v.len != 8 || memcmp(v.p, "HTTP/", 5) != 0 || v.p[6] != '.' || v.p[5] < '0' ||
	    v.p[5] > '9' || v.p[7] < '0' || v.p[7] > '9')
		return -1;
	if (v.p[5] == '1' && (v.p[7] == '0' || v.p[7] == '1'))
		return v.p[7] - '0';
	return 2;
}

/* Refuses with |status|; the connection ends after the answer. */
static int refuse(mpq_http1_request *req, int status)
{
	req->keep_alive = false;
	req->rel[0] = '\0';
	return status;
}

MPQ_EXPORT int mpq_http1_parse_request(const char *buf, size_t len, mpq_http1_request *req)
{
	size_t end = head_end(buf, len), pos = 0;

	if (!end) {
		const char *nl = memchr(buf, '\n', len);
		size_t first = nl ? (size_t)(nl - buf) : len;

		if (first > MPQ_HQ_MAX_REQUEST || len >= MPQ_HTTP1_MAX_HEAD) {
			memset(req, 0, sizeof(*req));
			return refuse(req, first > MPQ_HQ_MAX_REQUEST ? 400 : 431);
		}
		return 0;
	}
	memset(req, 0, sizeof(*req));
	if (end > MPQ_HTTP1_MAX_HEAD)
		return refuse(req, 431);
	req->head_len = end;

	struct span line = next_line(buf, end, &pos);
	if (line.len > MPQ_HQ_MAX_REQUEST)
		return refuse(req, 400);
	const char *sp1 = memchr(line.p, ' ', line.len);
	if (!sp1)
		return refuse(req, 400);
	struct span method = {line.p, (size_t)(sp1 - line.p)};
	struct span target = {sp1 + 1, 0};
	const char *sp2 = memchr(target.p, ' ', (size_t)(line.p + line.len - target.p));
	if (!sp2)
		return refuse(req, 400);
	target.len = (size_t)(sp2 - target.p);
	struct span version = {sp2 + 1, (size_t)(line.p + line.len - sp2 - 1)};
	if (!is_token(method.p, method.len) || !target.len || target.p[0] != '/')
		return refuse(req, 400);
	int minor = version_of(version);
	if (minor < 0)
		return refuse(req, 400);
	if (minor > 1)
		return refuse(req, 505);
	req->http10 = minor == 0;

	struct headers h;
	if (!read_headers(buf, end, pos, &h) || (minor == 1 && h.hosts != 1))
		return refuse(req, 400);
	/* No request here has a body: one would have to be read past. */
	if (h.transfer_encoding || h.bad_length || (h.has_length && h.length))
		return refuse(req, 400);
	if (method.len != 3 || memcmp(method.p, "GET", 3) != 0) /* methods are case-sensitive */
		return refuse(req, 405);
	req->keep_alive = minor == 1 ? !h.close : h.keep && !h.close;

	const char *query = memchr(target.p, '?', target.len);
	if (query)
		target.len = (size_t)(query - target.p);
	uint64_t code = mpq_hq_parse_path(target.p, target.len, req->rel, sizeof(req->rel));
	if (code == MPQ_HQ_ERR_FORBIDDEN) {
		req->rel[0] = '\0';
		return 403;
	}
	if (code)
		return refuse(req, mpq_http1_status_of(code));
	return 200;
}

MPQ_EXPORT int mpq_http1_status_of(uint64_t hq_code)
{
	switch (hq_code) {
	case MPQ_HQ_ERR_NOT_FOUND:
		return 404;
	case MPQ_HQ_ERR_FORBIDDEN:
		return 403;
	case MPQ_HQ_ERR_BAD_REQUEST:
		return 400;
	default:
		return 500;
	}
}

MPQ_EXPORT uint64_t mpq_http1_code_of(int status)
{
	switch (status) {
	case 404:
		return MPQ_HQ_ERR_NOT_FOUND;
	case 403:
		return MPQ_HQ_ERR_FORBIDDEN;
	case 400:
		return MPQ_HQ_ERR_BAD_REQUEST;
	default:
		return status >= 500 && status <= 599 ? MPQ_HQ_ERR_INTERNAL : 0;
	}
}

MPQ_EXPORT const char *mpq_http1_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Error";
	}
}

/* "HTTP/1.x SP 3DIGIT [SP reason]": the status, or -1. */
static int status_line(struct span line, bool *http10)
{
	struct span version = {line.p, line.len < 8 ? line.len : 8};
	int minor = version_of(version), status = 0;

	if (minor < 0 || minor > 1 || line.len < 12 || line.p[8] != ' ')
		return -1;
	for (size_t i = 9; i < 12; i++) {
		if (line.p[i] < '0' || line.p[i] > '9')
			return -1;
		status = status * 10 + (line.p[i] - '0');
	}
	if (status < 100 || (line.len > 12 && line.p[12] != ' '))
		return -1;
	for (size_t i = 12; i < line.len; i++) {
		unsigned char c = (unsigned char)line.p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
	}
	*http10 = minor == 0;
	return status;
}

MPQ_EXPORT int mpq_http1_parse_response(const char *buf, size_t len, mpq_http1_response *resp)
{
	size_t end = head_end(buf, len), pos = 0;
	struct headers h;
	bool http10 = false;

	memset(resp, 0, sizeof(*resp));
	if (!end)
		return len >= MPQ_HTTP1_MAX_HEAD ? MPQ_ERR_PROTO : 0;
	if (end > MPQ_HTTP1_MAX_HEAD)
		return MPQ_ERR_PROTO;
	resp->status = status_line(next_line(buf, end, &pos), &http10);
	if (resp->status < 0 || !read_headers(buf, end, pos, &h) || h.bad_length ||
	    h.transfer_encoding)
		return MPQ_ERR_PROTO;
	resp->head_len = end;
	resp->keep_alive = http10 ? h.keep && !h.close : !h.close;
	resp->has_length = h.has_length;
	resp->content_length = h.length;
	return 1;
}
