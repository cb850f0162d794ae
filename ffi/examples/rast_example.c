/* rast_example: the smallest program that uses only rast.h. It loads a model, prefills a token
 * prompt into the paged KV cache and decodes greedily, printing the new token ids; with --rast
 * it loads a base and a (positive, negative) pair and decodes RAST-steered greedy steps.
 *
 *   rast_example MODEL_DIR [N_NEW] [TOKEN ...]
 *   rast_example --rast BASE POS NEG ALPHA N_NEW TOKEN ...
 *
 * Started by torchrun (WORLD_SIZE > 1), every process runs it: rank 0 splits the models across
 * all of them and prints, the other ranks follow rank 0's calls and exit with its status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rast.h"

#define BLOCK_SIZE 4 /* small on purpose: a sequence spans several blocks */

/* error is a function of the handle, read only after the call returned (C leaves the order in
 * which arguments are evaluated open, so a message read as an argument could predate the call). */
typedef const char *(*error_of)(const void *handle);
static int check(int32_t code, const char *what, error_of error, const void *handle) {
  if (code == RAST_OK) return 0;
  fprintf(stderr, "rast_example: %s failed (%d): %s\n", what, code, error(handle));
  return 1;
}

static const char *thread_error(const void *unused) { return rast_last_error(); }
static const char *model_error(const void *m) { return rast_model_error((const rast_model *)m); }
static const char *group_error(const void *g) { return rast_group_error((const rast_group *)g); }

static const char *world_error(const void *unused) { return rast_world_error(); }

static int32_t world_size = 1; /* the ranks every model is split across */

static rast_model *load(const char *dir) {
  rast_model *m = NULL;
  char options[64];
  snprintf(options, sizeof options, "{\"dtype\":\"float32\",\"tensorParallel\":%d}",
           (int)world_size);
  if (check(rast_model_create(&m), "rast_model_create", thread_error, NULL)) return NULL;
  if (check(rast_model_load(m, dir, options), "rast_model_load", model_error, m)) {
    rast_model_free(m);
    return NULL;
  }
  return m;
}

/* The vocab size from the info JSON, without a JSON library. */
static int32_t info_vocab(rast_model *m) {
  char info[4096];
  int64_t len = 0;
  if (check(rast_model_info(m, info, sizeof info, &len), "rast_model_info", model_error, m))
    return -1;
  const char *v = strstr(info, "\"vocab\":");
  return v ? (int32_t)atoi(v + 8) : -1;
}

static int32_t argmax(const float *x, int32_t n) {
  int32_t best = 0;
  for (int32_t i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return best;
}

/* One sequence owning blocks 0, 1, 2, ... in order. */
static int32_t *block_table(int32_t positions, int32_t *n_blocks) {
  *n_blocks = (positions + BLOCK_SIZE - 1) / BLOCK_SIZE;
  int32_t *table = malloc(sizeof(int32_t) * (size_t)*n_blocks);
  for (int32_t i = 0; i < *n_blocks; i++) table[i] = i;
  return table;
}

static int greedy(const char *dir, int32_t n_new, const int32_t *prompt, int32_t n_prompt) {
  rast_model *m = load(dir);
  if (!m) return 1;
  int32_t vocab = info_vocab(m), n_blocks = 0;
  if (vocab <= 0) return 1;
  int32_t *table = block_table(n_prompt + n_new, &n_blocks);
  if (check(rast_cache_init(m, n_blocks, BLOCK_SIZE), "rast_cache_init", model_error, m))
    return 1;
  float *logits = malloc(sizeof(float) * (size_t)vocab);
  int32_t start = 0, len = n_prompt, token = 0;
  rast_batch batch = {prompt, &len, &start, table, n_blocks, 1};
  for (int32_t step = 0; step < n_new; step++) {
    if (check(rast_model_forward(m, &batch, RAST_LOGITS_LAST, logits), "rast_model_forward",
              model_error, m))
      return 1;
    token = argmax(logits, vocab);
    printf("%s%d", step ? "," : "", token);
    start += len; /* the next step feeds the token just chosen */
    len = 1;
    batch.tokens = &token;
  }
  printf("\n");
  free(logits);
  free(table);
  rast_model_free(m);
  return 0;
}

static int rast(char **dirs, float alpha, int32_t n_new, const int32_t *prompt, int32_t n_prompt) {
  rast_model *base = load(dirs[0]), *pos = load(dirs[1]), *neg = load(dirs[2]);
  if (!base || !pos || !neg) return 1;
  rast_group *g = NULL;
  if (check(rast_group_init(base, &pos, &neg, &alpha, 1, &g), "rast_group_init", thread_error, NULL))
    return 1;
  int32_t n_blocks = 0;
  int32_t *table = block_table(n_prompt + n_new, &n_blocks);
  if (check(rast_group_cache_init(g, n_blocks, BLOCK_SIZE), "rast_group_cache_init",
            group_error, g))
    return 1;
  /* Prefill all but the last prompt token; each step then feeds one token. */
  int32_t start = 0, len = n_prompt - 1, token = prompt[n_prompt - 1];
  rast_batch batch = {prompt, &len, &start, table, n_blocks, 1};
  if (len > 0 && check(rast_group_prefill(g, &batch), "rast_group_prefill", group_error, g))
    return 1;
  rast_sampling sampling;
  rast_sampling_default(&sampling);
  sampling.temperature = 0; /* greedy */
  uint64_t seed = 0;
  start = n_prompt - 1;
  len = 1;
  batch.tokens = &token;
  for (int32_t step = 0; step < n_new; step++) {
    if (check(rast_group_step(g, &batch, &seed, &sampling, &token, NULL, NULL), "rast_group_step",
              group_error, g))
      return 1;
    printf("%s%d", step ? "," : "", token);
    start++;
  }
  printf("\n");
  free(table);
  rast_group_free(g);
  rast_model_free(base);
  rast_model_free(pos);
  rast_model_free(neg);
  return 0;
}

int main(int argc, char **argv) {
  int steered = argc > 1 && strcmp(argv[1], "--rast") == 0;
  if (argc < 2 || (steered && argc < 8)) {
    fprintf(stderr, "usage: rast_example MODEL_DIR [N_NEW] [TOKEN ...]\n"
                    "       rast_example --rast BASE POS NEG ALPHA N_NEW TOKEN ...\n");
    return 2;
  }
  char world[128];
  int64_t len = 0;
  if (check(rast_world_join(world, sizeof world, &len), "rast_world_join", world_error, NULL))
    return 1;
  const char *size = strstr(world, "\"world\":");
  world_size = size ? (int32_t)atoi(size + 8) : 1;
  if (strncmp(world, "{\"rank\":0,", 10) != 0) { /* not rank 0: serve its calls */
    int32_t code = 1;
    if (check(rast_world_follow(&code), "rast_world_follow", world_error, NULL)) return 1;
    return code;
  }
  int first = steered ? 7 : 3;
  int32_t n_new = steered ? atoi(argv[6]) : argc > 2 ? atoi(argv[2]) : 8;
  int32_t n_prompt = argc > first ? argc - first : 3;
  int32_t *prompt = malloc(sizeof(int32_t) * (size_t)n_prompt);
  for (int32_t i = 0; i < n_prompt; i++) prompt[i] = argc > first ? atoi(argv[first + i]) : 5 + i;
  int status = steered ? rast(argv + 2, (float)atof(argv[5]), n_new, prompt, n_prompt)
                       : greedy(argv[1], n_new, prompt, n_prompt);
  free(prompt);
  rast_world_close(status); /* releases the other ranks, if any */
  return status;
}
