/* t-observe - the flags, the textfile path, the records counters, the last write. */
#include <stdlib.h>
#include <unistd.h>

#include "observe.h"
#include "tap.h"
#include "util.h"

static void
test_options(void)
{
	struct nap_obs_opts o = {.prog = "nap-x"};
	char *p;

	TAP_OK(!nap_obs_wanted(&o, ""), "no flag and no directory: no metrics");
	TAP_OK(nap_obs_wanted(&o, "/var/lib/node_exporter"), "a directory in nap.conf: metrics");
	TAP_IS_INT(
	    nap_obs_option(&o, "--metrics-file", "/tmp/a.prom"), 1, "--metrics-file is ours");
	TAP_IS_INT(nap_obs_option(&o, "metrics-listen", "9090"), 1, "so is metrics-listen");
	TAP_IS_INT(nap_obs_option(&o, "--no-events", NULL), 0, "--no-events is not");
	TAP_IS_STR(o.listen, "9090", "the address is kept");
	p = nap_obs_textfile(o.textfile, "/d", "nap-x");
	TAP_IS_STR(p, "/tmp/a.prom", "the flag wins over the directory");
	free(p);
	p = nap_obs_textfile(NULL, "/d", "nap-x");
	TAP_IS_STR(p, "/d/nap-x.prom", "else the directory and the tool's name");
	free(p);
	TAP_OK(nap_obs_textfile("", "", "nap-x") == NULL, "else none");
}

static void
test_records(void)
{
	char dir[] = "/tmp/t-observe.XXXXXX", *path, *text;
	struct nap_obs_opts o = {.prog = "nap-x"};
	struct nap_obs *obs;
	struct nap_err err;

	TAP_OK(mkdtemp(dir) != NULL, "temporary directory");
	path = nap_xasprintf("%s/nap-x.prom", dir);
	o.textfile = path;
	obs = nap_obs_open(&o, NULL, &err);
	TAP_OK(obs != NULL, "opened");
	TAP_OK(access(path, F_OK) == 0, "the textfile is written at start");
	nap_obs_read(obs, "ADDED");
	nap_obs_read(obs, "ADDED");
	nap_obs_read(obs, "made-up");
	nap_obs_read(obs, NULL);
	nap_obs_malformed(obs);
	nap_obs_written(obs, "LaunchRequest");
	nap_obs_free(obs);
	text = test_slurp(path, NULL);
	TAP_OK(text && strstr(text, "nap_records_read_total{type=\"ADDED\"} 2\n"),
	    "records read are counted by type, and the last write at the end has them");
	TAP_OK(text && strstr(text, "nap_records_read_total{type=\"other\"} 2\n"),
	    "a type nap-records(5) does not list counts as other");
	TAP_OK(text && strstr(text, "nap_records_malformed_total 1\n") &&
		strstr(text, "nap_records_written_total{type=\"LaunchRequest\"} 1\n"),
	    "malformed lines and records written");
	TAP_OK(text && strstr(text, "nap_build_info{tool=\"nap-x\",version=\""),
	    "build info names the tool");
	free(text);
	unlink(path);
	free(path);
	path = nap_xasprintf("%s/missing/nap-x.prom", dir);
	o.textfile = path;
	TAP_OK(nap_obs_open(&o, NULL, &err) == NULL && err.code == NAP_EX_IOERR &&
		strstr(err.msg, path),
	    "a textfile that cannot be written fails at open, naming it");
	o.textfile = NULL;
	o.listen = "300.1.1.1:1";
	TAP_OK(nap_obs_open(&o, NULL, &err) == NULL && err.code == NAP_EX_USAGE,
	    "a bad address fails at open as a usage error");
	free(path);
	rmdir(dir);
	nap_obs_read(NULL, "ADDED");
	nap_obs_free(NULL);
	TAP_OK(1, "every call takes a NULL observer (metrics off)");
}

int
main(void)
{
	test_options();
	test_records();
	return tap_done();
}
