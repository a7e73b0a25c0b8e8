export const ledgerApi = [];
