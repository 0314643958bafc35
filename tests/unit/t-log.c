/* Unit tests for lib/log: the line formats on stderr. */
#include "log.h"
#include "tap.h"

#include <stdlib.h>
#include <unistd.h>

#include <json-c/json.h>

/* Log one warning in a child with the given setup; return what it wrote to stderr. */
static char *
capture(const char *format, int journal, int level_name, const char *vm)
{
	static char buf[1024];
	int fds[2];
	pid_t pid;
	ssize_t n;

	fflush(stdout);
	if (pipe(fds) != 0)
		abort();
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 2);
		if (journal)
			setenv("JOURNAL_STREAM", "8:1234", 1);
		else
			unsetenv("JOURNAL_STREAM");
		nap_log_set_prog("nap-test");
		nap_log_set_format(format);
		if (level_name)
			nap_log_set_level_name("error");
		nap_warn("create vm %s: 429 throttled", vm);
		nap_debug("not shown");
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	return buf;
}

int
main(void)
{
	json_object *o;
	char *s;

	TAP_IS_STR(capture("text", 0, 0, "aks-default-x7k2p"),
	    "nap-test: warning: create vm aks-default-x7k2p: 429 throttled\n",
	    "a text line names the program and the level");
	TAP_IS_STR(capture("text", 1, 0, "aks-default-x7k2p"),
	    "<4>nap-test: warning: create vm aks-default-x7k2p: 429 throttled\n",
	    "under journald a warning carries priority 4");
	TAP_IS_STR(capture("text", 0, 1, "aks-default-x7k2p"), "",
	    "a warning is not shown at level error");
	TAP_IS_STR(capture("text", 1, 0, "a\n<0>nap-x: fatal: forged\r\x01"),
	    "<4>nap-test: warning: create vm a\\n<0>nap-x: fatal: forged\\r\\x01: 429 throttled\n",
	    "control bytes in a message are escaped: one line, nothing forged");
	s = capture("json", 0, 0, "aks-default-x7k2p");
	o = json_tokener_parse(s);
	TAP_OK(o != NULL, "the json format writes one JSON object: %s", s);
	TAP_IS_STR(json_object_get_string(json_object_object_get(o, "level")), "warning",
	    "the JSON line has the level");
	TAP_IS_STR(json_object_get_string(json_object_object_get(o, "prog")), "nap-test",
	    "the JSON line has the program");
	TAP_IS_STR(json_object_get_string(json_object_object_get(o, "msg")),
	    "create vm aks-default-x7k2p: 429 throttled", "the JSON line has the message");
	TAP_OK(json_object_object_get(o, "ts") != NULL, "the JSON line has a timestamp");
	json_object_put(o);
	TAP_IS_INT(nap_log_set_format("xml"), -1, "an unknown format is refused");
	TAP_IS_INT(nap_log_set_level_name("warn"), 0, "warn is accepted as a level name");
	TAP_IS_INT(nap_log_set_level_name("loud"), -1, "an unknown level is refused");
	return tap_done();
}
