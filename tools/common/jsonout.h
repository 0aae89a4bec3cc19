/*
 * A small JSON writer for the tools' --json summaries: one object printed to
 * a stdio stream, with commas placed automatically. Strings are escaped as
 * RFC 8259 requires (quote, backslash, control characters); other bytes are
 * copied, so callers pass UTF-8.
 */
#ifndef MPQ_TOOL_JSONOUT_H
#define MPQ_TOOL_JSONOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define TOOL_JSON_DEPTH 16

struct tool_json {
	FILE *f;
	int depth;
	bool has_member[TOOL_JSON_DEPTH];
	bool after_key;
};

void tool_json_init(struct tool_json *j, FILE *f);
void tool_json_obj_begin(struct tool_json *j);
void tool_json_obj_end(struct tool_json *j);
void tool_json_arr_begin(struct tool_json *j);
void tool_json_arr_end(struct tool_json *j);
void tool_json_key(struct tool_json *j, const char *key);

void tool_json_str(struct tool_json *j, const char *s);
void tool_json_u64(struct tool_json *j, uint64_t v);
/* |v| with |decimals| digits after the point; not finite prints null. */
void tool_json_num(struct tool_json *j, double v, int decimals);
void tool_json_bool(struct tool_json *j, bool v);
void tool_json_null(struct tool_json *j);

/* A member: |key| and its value, as tool_json_key then the value. */
void tool_json_kv_u64(struct tool_json *j, const char *key, uint64_t v);
/* |s| NULL: null. */
void tool_json_kv_str(struct tool_json *j, const char *key, const char *s);

#endif
