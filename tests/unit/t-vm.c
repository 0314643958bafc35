/*
 * t-vm - lib/vm against a scripted fake ARM server: the VM, then the NIC,
 * then the OS disk, each followed until it answers 404; resources already
 * gone; a refused forceDeletion retried without it; a failure that stops
 * the deletion before the next resource; the asynchronous driving with the
 * caller's arg; and the synchronous form refusing a busy client.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arm.h"
#include "tap.h"
#include "util.h"
#include "vm.h"

#define BASE "/subscriptions/s/resourceGroups/rg/providers/"
#define VM BASE "Microsoft.Compute/virtualMachines/aks-x"
#define NIC BASE "Microsoft.Network/networkInterfaces/aks-x"
#define DISK BASE "Microsoft.Compute/disks/aks-x"
#define Q_VM "?api-version=" NAP_ARM_API_COMPUTE
#define Q_NIC "?api-version=" NAP_ARM_API_NETWORK
#define Q_DISK "?api-version=" NAP_ARM_API_DISK
#define NOT_FOUND "404 Not Found", "{\"error\":{\"code\":\"ResourceNotFound\",\"message\":\"gone\"}}"

/* One request the server expects, and what it answers. */
struct step {
	const char *line; /* "METHOD path-and-query" */
	const char *status, *body;
};

static char logpath[] = "/tmp/t-vm.XXXXXX";

/*
 * A server for script: the i-th connection gets the i-th answer, whatever
 * it asked; every request line goes to the log so the test can compare.
 */
static pid_t
fork_server(int *port, const struct step *script, size_t n)
{
	int lfd = test_listener(port);
	pid_t pid;
	size_t i;

	fflush(stdout);
	pid = fork();
	if (pid != 0) {
		close(lfd);
		return pid;
	}
	alarm(60);
	for (i = 0; i < n; i++) {
		char req[8192], *ans, *end;
		size_t got = 0;
		ssize_t r;
		FILE *log;
		int c = accept(lfd, NULL, NULL);

		if (c < 0)
			_exit(1);
		req[0] = '\0';
		while (got + 1 < sizeof(req) &&
		    (r = read(c, req + got, sizeof(req) - got - 1)) > 0) {
			got += (size_t)r;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		/* "DELETE /path?query HTTP/1.1": keep method and target. */
		if ((end = strstr(req, " HTTP/1.1")) != NULL)
			*end = '\0';
		if ((log = fopen(logpath, "a")) == NULL)
			_exit(1);
		fprintf(log, "%s\n", req);
		fclose(log);
		ans = nap_xasprintf("HTTP/1.1 %s\r\nContent-Type: application/json\r\n%s"
				    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		    script[i].status,
		    strncmp(script[i].status, "429", 3) == 0 ? "Retry-After: 0\r\n" : "",
		    strlen(script[i].body), script[i].body);
		if (write(c, ans, strlen(ans)) < 0)
			_exit(1);
		free(ans);
		close(c);
	}
	_exit(0);
}

static struct nap_arm *
client(struct nap_http **http, int port)
{
	struct nap_arm_opts o;
	struct nap_err err;
	char *ep = nap_xasprintf("http://127.0.0.1:%d", port);
	struct nap_arm *a;

	*http = nap_http_new(&err);
	memset(&o, 0, sizeof(o));
	o.endpoint = ep;
	o.poll_ms = 5;
	o.max_attempts = 3;
	a = nap_arm_new(*http, &o, &err);
	if (!a)
		printf("Bail out! arm client: %s\n", err.msg);
	free(ep);
	return a;
}

/* The requests the server saw are script's lines, in order. */
static void
saw(const struct step *script, size_t n, const char *what)
{
	FILE *log = fopen(logpath, "r");
	char line[8192];
	size_t i = 0, bad = 0;

	while (log && fgets(line, sizeof(line), log)) {
		line[strcspn(line, "\n")] = '\0';
		if (i >= n || strcmp(line, script[i].line) != 0) {
			printf("#   request %zu: got \"%s\", want \"%s\"\n", i + 1, line,
			    i < n ? script[i].line : "(none)");
			bad++;
		}
		i++;
	}
	if (log)
		fclose(log);
	TAP_OK(!bad && i == n, "%s (%zu of %zu requests as expected)", what, i - bad, n);
	unlink(logpath);
}

/* Run script through the synchronous deletion of names (NULL: aks-x's three); its result. */
static int
run_names(const struct step *script, size_t n, const struct nap_vm_names *names_in,
    struct nap_err *err)
{
	struct nap_http *http;
	struct nap_arm *a;
	struct nap_vm_names names;
	int port, status, rc;
	pid_t pid = fork_server(&port, script, n);

	a = client(&http, port);
	if (!a)
		exit(1);
	nap_vm_names(&names, "s", "rg", "aks-x");
	rc = nap_vm_delete(a, names_in ? names_in : &names, err);
	nap_arm_free(a);
	nap_http_free(http);
	waitpid(pid, &status, 0);
	return rc;
}

static int
run(const struct step *script, size_t n, struct nap_err *err)
{
	return run_names(script, n, NULL, err);
}

static void
test_all_present(void)
{
	static const struct step s[] = {
	    {"DELETE " VM "?forceDeletion=true&api-version=" NAP_ARM_API_COMPUTE, "202 Accepted",
		""},
	    {"GET " VM Q_VM, "200 OK", "{\"properties\":{\"provisioningState\":\"Deleting\"}}"},
	    {"GET " VM Q_VM, NOT_FOUND},
	    {"DELETE " NIC Q_NIC, "202 Accepted", ""},
	    {"GET " NIC Q_NIC, NOT_FOUND},
	    {"DELETE " DISK Q_DISK, "202 Accepted", ""},
	    {"GET " DISK Q_DISK, NOT_FOUND},
	};
	struct nap_err err;

	TAP_IS_INT(run(s, NAP_ARRAY_LEN(s), &err), 0,
	    "a VM, NIC and disk that exist are deleted");
	saw(s, NAP_ARRAY_LEN(s),
	    "the VM with forceDeletion, followed to 404, then the NIC, then the disk");
}

static void
test_already_gone(void)
{
	static const struct step s[] = {
	    {"DELETE " VM "?forceDeletion=true&api-version=" NAP_ARM_API_COMPUTE,
		"429 Too Many Requests", "{\"error\":{\"code\":\"TooManyRequests\"}}"},
	    {"DELETE " VM "?forceDeletion=true&api-version=" NAP_ARM_API_COMPUTE,
		"204 No Content", ""},
	    {"DELETE " NIC Q_NIC, "204 No Content", ""},
	    {"DELETE " DISK Q_DISK, "204 No Content", ""},
	};
	struct nap_err err;

	TAP_IS_INT(run(s, NAP_ARRAY_LEN(s), &err), 0,
	    "deleting what is already gone succeeds (a repeated deletion is harmless)");
	saw(s, NAP_ARRAY_LEN(s), "a 429 is retried; 204 needs no polling");
}

static void
test_force_refused(void)
{
	static const struct step s[] = {
	    {"DELETE " VM "?forceDeletion=true&api-version=" NAP_ARM_API_COMPUTE,
		"400 Bad Request",
		"{\"error\":{\"code\":\"InvalidParameter\",\"message\":\"Force deletion is not "
		"supported for this virtual machine.\"}}"},
	    {"DELETE " VM Q_VM, "202 Accepted", ""},
	    {"GET " VM Q_VM, NOT_FOUND},
	    {"DELETE " NIC Q_NIC, "204 No Content", ""},
	    {"DELETE " DISK Q_DISK, "204 No Content", ""},
	};
	struct nap_err err;

	TAP_IS_INT(run(s, NAP_ARRAY_LEN(s), &err), 0,
	    "a VM Azure will not force-delete is deleted without forceDeletion");
	saw(s, NAP_ARRAY_LEN(s), "the second DELETE drops the flag");
}

static void
test_stops_at_failure(void)
{
	static const struct step s[] = {
	    {"DELETE " VM "?forceDeletion=true&api-version=" NAP_ARM_API_COMPUTE,
		"204 No Content", ""},
	    {"DELETE " NIC Q_NIC, "400 Bad Request",
		"{\"error\":{\"code\":\"NicInUse\",\"message\":\"Network Interface is used by "
		"existing resource\"}}"},
	};
	static const struct step v[] = {
	    {"DELETE " VM "?forceDeletion=true&api-version=" NAP_ARM_API_COMPUTE,
		"409 Conflict",
		"{\"error\":{\"code\":\"OperationNotAllowed\",\"message\":\"locked\"}}"},
	};
	struct nap_err err;

	TAP_IS_INT(run(s, NAP_ARRAY_LEN(s), &err), -1,
	    "a NIC Azure refuses to delete fails the deletion");
	TAP_OK(strncmp(err.msg, "delete nic aks-x: ", 18) == 0 && strstr(err.msg, "NicInUse"),
	    "err names the NIC and Azure's code: %s", err.msg);
	TAP_IS_INT(err.code, NAP_EX_NO, "as a well-formed no");
	saw(s, NAP_ARRAY_LEN(s), "the disk is not tried after the NIC failed");

	TAP_IS_INT(run(v, NAP_ARRAY_LEN(v), &err), -1,
	    "a VM Azure refuses to delete fails the deletion");
	TAP_OK(strncmp(err.msg, "delete vm aks-x: ", 17) == 0, "err names the VM: %s", err.msg);
	TAP_IS_INT(err.http, 409, "and keeps the HTTP status");
	saw(v, NAP_ARRAY_LEN(v),
	    "neither NIC nor disk is tried while the VM may hold them (no forceless retry on 409)");
}

static void
test_lone_nic(void)
{
	static const struct step s[] = {
	    {"DELETE " NIC Q_NIC, "202 Accepted", ""},
	    {"GET " NIC Q_NIC, NOT_FOUND},
	    {"DELETE " DISK Q_DISK, "204 No Content", ""},
	};
	struct nap_vm_names names;
	struct nap_err err;

	nap_vm_names(&names, "s", "rg", "aks-x");
	names.vm = NULL;
	TAP_IS_INT(run_names(s, NAP_ARRAY_LEN(s), &names, &err), 0,
	    "a lone NIC (no VM named) is deleted with its disk");
	saw(s, NAP_ARRAY_LEN(s), "no VM DELETE is sent when no VM is named");
}

static void
test_async(void)
{
	static const struct step s[] = {
	    {"DELETE " VM "?forceDeletion=true&api-version=" NAP_ARM_API_COMPUTE,
		"204 No Content", ""},
	    {"DELETE " DISK Q_DISK, "204 No Content", ""},
	};
	struct nap_http *http;
	struct nap_arm *a;
	struct nap_arm_call *call;
	struct nap_vm_names names;
	struct nap_vm_del *d;
	struct nap_err err;
	int port, status, rc = 1, mine = 1, steps = 0, tag;
	pid_t pid = fork_server(&port, s, NAP_ARRAY_LEN(s));

	a = client(&http, port);
	if (!a)
		exit(1);
	nap_vm_names(&names, "s", "rg", "aks-x");
	names.nic = NULL; /* nothing to delete there */
	d = nap_vm_delete_start(a, &names, &tag);
	TAP_IS_INT(nap_vm_delete_stage(d), NAP_VM_DEL_VM, "a deletion starts at the VM");
	TAP_IS_STR(nap_vm_delete_vm(d), "aks-x", "and knows its VM");
	while (rc == 1 && nap_arm_wait(a, -1, -1, &err) == 0) {
		while (rc == 1 && (call = nap_arm_done(a)) != NULL) {
			mine &= nap_arm_call_arg(call) == &tag && nap_vm_delete_owns(d, call);
			steps++;
			rc = nap_vm_delete_step(d, call, &err);
		}
	}
	TAP_IS_INT(rc, 0, "driven by the caller's loop, the deletion ends well");
	TAP_OK(mine, "every call carries the caller's arg and is owned by the deletion");
	TAP_IS_INT(steps, 2, "a NIC of no name is skipped");
	TAP_IS_INT(nap_vm_delete_stage(d), NAP_VM_DEL_DONE, "and the deletion says it is done");
	TAP_OK(!nap_vm_delete_owns(d, NULL), "a finished deletion owns no call");
	nap_vm_delete_free(d);
	nap_vm_delete_free(NULL);
	nap_arm_free(a);
	nap_http_free(http);
	waitpid(pid, &status, 0);
	saw(s, NAP_ARRAY_LEN(s), "the VM, then the disk");
}

static void
test_busy_client(void)
{
	struct nap_http *http;
	struct nap_arm *a;
	struct nap_vm_names names;
	struct nap_err err;

	/* Port 9 on loopback: nothing is ever answered, nothing needs to be. */
	a = client(&http, 9);
	if (!a)
		exit(1);
	nap_arm_start(a, "GET", VM, NAP_ARM_API_COMPUTE, NULL, 0, NULL);
	nap_vm_names(&names, "s", "rg", "aks-x");
	TAP_IS_INT(nap_vm_delete(a, &names, &err), -1,
	    "the synchronous deletion refuses a client with another call out");
	TAP_IS_INT(err.code, NAP_EX_SOFTWARE, "as a bug of the caller's");
	nap_arm_free(a);
	nap_http_free(http);
}

int
main(void)
{
	int fd = mkstemp(logpath);

	if (fd < 0) {
		printf("Bail out! mkstemp: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	unlink(logpath);
	test_all_present();
	test_already_gone();
	test_force_refused();
	test_stops_at_failure();
	test_lone_nic();
	test_async();
	test_busy_client();
	return tap_done();
}
