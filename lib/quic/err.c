/* Library error values: text, fatality, and the QUIC transport code each becomes. */
#include "mpq/mpq.h"

MPQ_EXPORT const char *mpq_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case MPQ_ERR_INVALID_ARGUMENT:
		return "invalid argument";
	case MPQ_ERR_NOBUF:
		return "buffer too small";
	case MPQ_ERR_TRUNCATED:
		return "input truncated";
	case MPQ_ERR_FRAME_ENCODING:
		return "malformed frame";
	case MPQ_ERR_PROTO:
		return "protocol violation";
	case MPQ_ERR_TRANSPORT_PARAM:
		return "invalid transport parameters";
	case MPQ_ERR_DECRYPT:
		return "decryption failed";
	case MPQ_ERR_INVALID_PACKET:
		return "invalid packet";
	case MPQ_ERR_UNKNOWN_VERSION:
		return "unsupported QUIC version";
	case MPQ_ERR_FLOW_CONTROL:
		return "flow control limit exceeded";
	case MPQ_ERR_STREAM_LIMIT:
		return "stream limit exceeded";
	case MPQ_ERR_STREAM_STATE:
		return "invalid stream state";
	case MPQ_ERR_FINAL_SIZE:
		return "final size changed";
	case MPQ_ERR_CRYPTO:
		return "TLS alert";
	case MPQ_ERR_CRYPTO_BUFFER:
		return "too much buffered handshake data";
	case MPQ_ERR_CONNECTION_ID_LIMIT:
		return "connection ID limit exceeded";
	case MPQ_ERR_AEAD_LIMIT:
		return "AEAD usage limit reached";
	case MPQ_ERR_CLOSING:
		return "connection closing";
	case MPQ_ERR_DRAINING:
		return "connection draining";
	case MPQ_ERR_IDLE_CLOSE:
		return "idle timeout";
	case MPQ_ERR_HANDSHAKE_TIMEOUT:
		return "handshake timeout";
	case MPQ_ERR_VERSION_NEGOTIATION:
		return "no common QUIC version";
	case MPQ_ERR_STATELESS_RESET:
		return "stateless reset";
	case MPQ_ERR_NOT_FOUND:
		return "not found";
	case MPQ_ERR_KEY_UPDATE:
		return "key update error";
	case MPQ_ERR_NOMEM:
		return "out of memory";
	case MPQ_ERR_TLS:
		return "TLS library error";
	case MPQ_ERR_INTERNAL:
		return "internal error";
	case MPQ_ERR_CALLBACK_FAILURE:
		return "callback failed";
	default:
		return "unknown error";
	}
}

MPQ_EXPORT int mpq_err_is_fatal(int err)
{
	return err <= MPQ_ERR_FATAL;
}

MPQ_EXPORT uint64_t mpq_err_to_transport(int err)
{
	switch (err) {
	case 0:
		return MPQ_TE_NO_ERROR;
	case MPQ_ERR_FRAME_ENCODING:
	case MPQ_ERR_TRUNCATED:
		return MPQ_TE_FRAME_ENCODING_ERROR;
	case MPQ_ERR_PROTO:
		return MPQ_TE_PROTOCOL_VIOLATION;
	case MPQ_ERR_TRANSPORT_PARAM:
		return MPQ_TE_TRANSPORT_PARAMETER_ERROR;
	case MPQ_ERR_FLOW_CONTROL:
		return MPQ_TE_FLOW_CONTROL_ERROR;
	case MPQ_ERR_STREAM_LIMIT:
		return MPQ_TE_STREAM_LIMIT_ERROR;
	case MPQ_ERR_STREAM_STATE:
		return MPQ_TE_STREAM_STATE_ERROR;
	case MPQ_ERR_FINAL_SIZE:
		return MPQ_TE_FINAL_SIZE_ERROR;
	case MPQ_ERR_CRYPTO_BUFFER:
		return MPQ_TE_CRYPTO_BUFFER_EXCEEDED;
	case MPQ_ERR_CONNECTION_ID_LIMIT:
		return MPQ_TE_CONNECTION_ID_LIMIT_ERROR;
	case MPQ_ERR_AEAD_LIMIT:
		return MPQ_TE_AEAD_LIMIT_REACHED;
	case MPQ_ERR_KEY_UPDATE:
		return MPQ_TE_KEY_UPDATE_ERROR;
	default:
		return MPQ_TE_INTERNAL_ERROR;
	}
}
