'use strict';
// Hidden triggers that feed the dynamic dropdowns (campaigns, templates).

const { url } = require('../lib/api');

const list = (key, noun, path) => ({
  key,
  noun,
  display: { label: `List ${noun}s`, description: `Lists your ${noun.toLowerCase()}s for dropdowns.`, hidden: true },
  operation: {
    // Zapier pages dropdowns itself: bundle.meta.page counts from 0.
    canPaginate: true,
    perform: async (z, bundle) => {
      const page = (bundle.meta && bundle.meta.page) || 0;
      const response = await z.request({ url: url(path), params: { limit: 100, offset: page * 100, sort_by: 'name', order: 'asc' } });
      return response.data.data.map((item) => ({ id: item.id, name: item.name, status: item.status }));
    },
    sample: { id: '0c7d2a8e-3f4b-4c1d-8e2f-6a5b4c3d2e1f', name: 'Onboarding' },
  },
});

module.exports = [list('campaign_list', 'Campaign', '/api/v1/campaigns'), list('template_list', 'Template', '/api/v1/templates')];
