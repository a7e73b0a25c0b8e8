export declare const SWAGGER_UI_ASSETS_DIR: string;
export declare function copyGatewayAssets(): void;
