/**
 * remotedx: the configuration of the OHIF viewer the hub serves at /viewer. The hub sends this
 * file in place of the package's own app-config.js. OHIF reads the hub's DICOMweb service on the
 * same origin (/dicomweb), with the browser's session cookie; no other server is contacted.
 */
/** @type {AppTypes.Config} */
window.config = {
  name: 'remotedx',
  routerBasename: '/viewer',
  extensions: [],
  modes: [],
  customizationService: {},
  showStudyList: true,
  maxNumberOfWebWorkers: 3,
  showWarningMessageForCrossOrigin: false,
  showCPUFallbackMessage: true,
  showLoadingIndicator: true,
  strictZSpacingForVolumeViewport: true,
  // The hub is the reading tool of a region; the "investigational use" pop-up would cover the image.
  investigationalUseDialog: { option: 'never' },
  maxNumRequests: { interaction: 100, thumbnail: 75, prefetch: 25 },
  showErrorDetails: 'production',
  defaultDataSourceName: 'remotedx',
  dataSources: [
    {
      namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
      sourceName: 'remotedx',
      configuration: {
        friendlyName: 'remotedx hub',
        name: 'remotedx',
        wadoUriRoot: window.location.origin + '/dicomweb',
        qidoRoot: window.location.origin + '/dicomweb',
        wadoRoot: window.location.origin + '/dicomweb',
        qidoSupportsIncludeField: true,
        supportsReject: false,
        supportsStow: false,
        dicomUploadEnabled: false,
        imageRendering: 'wadors',
        thumbnailRendering: 'wadors',
        enableStudyLazyLoad: true,
        supportsFuzzyMatching: true,
        supportsWildcard: true,
        staticWado: false,
        // Pixel data and other bulk data are referenced from the metadata by BulkDataURI.
        bulkDataURI: { enabled: true, relativeResolution: 'studies' },
        omitQuotationForMultipartRequest: true,
      },
    },
  ],
};
