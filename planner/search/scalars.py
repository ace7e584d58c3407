"""The scalars the annealing kernel keeps between chunks, by index into one int64 array.

Apart from :mod:`planner.search.kernel` so that the driver can read them without importing
numba: a platform loss that never anneals (most host losses) does not pay numba's import.
"""

PROCESS_MOVE, MACHINE_MOVE, MOST_MOVED, COST = 0, 1, 2, 3
BEST_COST, BEST_STALE, WORSE_SUM, WORSE_COUNT, PROPOSED = 4, 5, 6, 7, 8
#: How many scalars there are (the array's length).
SCALARS = 9
