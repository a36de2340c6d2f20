// The colour of each depth (0–5), shared by the tree stripes and the history chart; each
// reaches 3:1 against white as a graphic colour.
export const DEPTH_COLOURS: readonly string[] = ['#1f4fbf', '#1b7a3a', '#a14d00', '#8a2a8f', '#00707a', '#9c1c3c'];
