/* The device steps openapi.json lists (JobDevice.step and DeviceJob.step enums, from which the web
 * UI's types are generated) are the engine's steps, in the engine's words: a step added to the
 * engine and not to the API document, or the other way round, fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "fuota/engine_calc.h"

static json_t *step_enum(json_t *doc, const char *schema)
{
	json_t *e = json_object_get(
	        json_object_get(json_object_get(json_object_get(json_object_get(doc, "components"),
	                                                        "schemas"),
	                                        schema),
	                        "properties"),
	        "step");

	assert_non_null(e);
	e = json_object_get(e, "enum");
	assert_true(json_is_array(e));
	return e;
}

static bool in_enum(json_t *e, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(e, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
			return true;
	}
	return false;
}

static void test_steps_match(void **state)
{
	static const char *const schemas[] = {"JobDevice", "DeviceJob"};
	json_error_t err;
	json_t *doc = json_load_file(OPENAPI_JSON, 0, &err);

	(void)state;
	if (!doc)
		fail_msg("%s: %s", OPENAPI_JSON, err.text);
	for (size_t k = 0; k < sizeof(schemas) / sizeof(schemas[0]); k++) {
		json_t *e = step_enum(doc, schemas[k]);
		enum engine_step s;
		size_t i;
		json_t *v;

		for (int n = 0; n < ENGINE_STEP_COUNT; n++)
			if (!in_enum(e, engine_step_name((enum engine_step)n)))
				fail_msg("%s.step lacks the engine's step \"%s\"", schemas[k],
				         engine_step_name((enum engine_step)n));
		json_array_foreach(e, i, v)
		{
			if (engine_step_parse(json_string_value(v), &s) != 0)
				fail_msg("%s.step names \"%s\", not a step of the engine",
				         schemas[k], json_string_value(v));
		}
		assert_int_equal(json_array_size(e), ENGINE_STEP_COUNT);
	}
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_steps_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
