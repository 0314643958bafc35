/*
 * yaml2json - print each document of YAML files as one line of JSON, with
 * nap's own loader (lib/yaml.c), so tests/fuzz/seeds.sh can turn the YAML
 * fixtures into seeds without any other YAML tool.  A file that does not
 * load is named on stderr and skipped.
 */
#include <stdio.h>

#include "yaml.h"

int
main(int argc, char **argv)
{
	int status = 0;

	for (int i = 1; i < argc; i++) {
		json_object *docs = NULL;
		struct nap_err err;
		size_t n;

		if (nap_yaml_load_file(argv[i], &docs, &err) != 0) {
			fprintf(stderr, "yaml2json: warning: %s\n", err.msg);
			status = 1;
			continue;
		}
		n = json_object_array_length(docs);
		for (size_t j = 0; j < n; j++)
			puts(json_object_to_json_string_ext(json_object_array_get_idx(docs, j),
			    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(docs);
	}
	return fflush(stdout) == 0 ? status : 1;
}
