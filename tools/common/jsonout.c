/* JSON summary writer: see jsonout.h. */
#include <math.h>

#include "jsonout.h"

void tool_json_init(struct tool_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->has_member[0] = false;
	j->after_key = false;
}

/* The comma before a value or key, unless it follows its key. */
static void separate(struct tool_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->has_member[j->depth])
		fputs(", ", j->f);
	j->has_member[j->depth] = true;
}

static void open_container(struct tool_json *j, char c)
{
	separate(j);
	fputc(c, j->f);
	if (j->depth + 1 < TOOL_JSON_DEPTH)
		j->depth++;
	j->has_member[j->depth] = false;
}

static void close_container(struct tool_json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
	if (j->depth == 0)
		fputc('\n', j->f);
}

void tool_json_obj_begin(struct tool_json *j)
{
	open_container(j, '{');
}

void tool_json_obj_end(struct tool_json *j)
{
	close_container(j, '}');
}

void tool_json_arr_begin(struct tool_json *j)
{
	open_container(j, '[');
}

void tool_json_arr_end(struct tool_json *j)
{
	close_container(j, ']');
}

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void tool_json_key(struct tool_json *j, const char *key)
{
	separate(j);
	put_string(j->f, key);
	fputs(": ", j->f);
	j->after_key = true;
}

void tool_json_str(struct tool_json *j, const char *s)
{
	separate(j);
	put_string(j->f, s);
}

void tool_json_u64(struct tool_json *j, uint64_t v)
{
	separate(j);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void tool_json_num(struct tool_json *j, double v, int decimals)
{
	separate(j);
	if (isfinite(v))
		fprintf(j->f, "%.*f", decimals, v);
	else
		fputs("null", j->f);
}

void tool_json_bool(struct tool_json *j, bool v)
{
	separate(j);
	fputs(v ? "true" : "false", j->f);
}

void tool_json_null(struct tool_json *j)
{
	separate(j);
	fputs("null", j->f);
}

void tool_json_kv_u64(struct tool_json *j, const char *key, uint64_t v)
{
	tool_json_key(j, key);
	tool_json_u64(j, v);
}

void tool_json_kv_str(struct tool_json *j, const char *key, const char *s)
{
	tool_json_key(j, key);
	if (s)
		tool_json_str(j, s);
	else
		tool_json_null(j);
}
