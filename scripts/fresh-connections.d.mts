/** Makes Node's fetch in this process open a fresh connection per request (see the .mjs for why). */
export function useFreshConnections(): void;
