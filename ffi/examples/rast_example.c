/* rast_example: the smallest program that uses only rast.h. It loads a model, prefills a token
 * prompt and decodes greedily with the KV cache, printing the new token ids.
 *
 *   rast_example MODEL_DIR [N_NEW] [TOKEN ...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rast.h"

static int check(int32_t code, const char *what) {
  if (code == RAST_OK) return 0;
  fprintf(stderr, "rast_example: %s failed (%d): %s\n", what, code, rast_last_error());
  return 1;
}

/* The vocab size from the info JSON, without a JSON library. */
static int32_t info_vocab(rast_model *m) {
  char info[4096];
  int64_t len = 0;
  if (check(rast_model_info(m, info, sizeof info, &len), "rast_model_info")) return -1;
  const char *v = strstr(info, "\"vocab\":");
  return v ? (int32_t)atoi(v + 8) : -1;
}

static int32_t argmax(const float *x, int32_t n) {
  int32_t best = 0;
  for (int32_t i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return best;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: rast_example MODEL_DIR [N_NEW] [TOKEN ...]\n");
    return 2;
  }
  int32_t n_new = argc > 2 ? atoi(argv[2]) : 8;
  int32_t n_prompt = argc > 3 ? argc - 3 : 3;
  int32_t *prompt = malloc(sizeof(int32_t) * (size_t)n_prompt);
  for (int32_t i = 0; i < n_prompt; i++) prompt[i] = argc > 3 ? atoi(argv[3 + i]) : 5 + i;

  rast_model *m = NULL;
  if (check(rast_model_load(argv[1], "{\"dtype\":\"float32\"}", &m), "rast_model_load")) return 1;
  int32_t vocab = info_vocab(m);
  if (vocab <= 0) return 1;
  if (check(rast_cache_init(m, 1, n_prompt + n_new), "rast_cache_init")) return 1;

  float *logits = malloc(sizeof(float) * (size_t)vocab);
  int32_t slot = 0, start = 0, len = n_prompt;
  if (check(rast_model_forward(m, prompt, &len, &slot, &start, 1, RAST_LOGITS_LAST, logits),
            "prefill"))
    return 1;
  int32_t pos = n_prompt, one = 1;
  for (int32_t step = 0; step < n_new; step++) {
    int32_t token = argmax(logits, vocab);
    printf("%s%d", step ? "," : "", token);
    if (step + 1 == n_new) break;
    if (check(rast_model_forward(m, &token, &one, &slot, &pos, 1, RAST_LOGITS_LAST, logits),
              "decode"))
      return 1;
    pos++;
  }
  printf("\n");
  free(logits);
  free(prompt);
  rast_model_free(m);
  return 0;
}
