export function copyGatewayAssets(): void;
